"""Understanding data: the vocabulary and the intents, loaded from ``understanding/*.yml``.

In: the two data files (and the words of the corpus, for typo correction). Out: an
``Understanding`` that expands shorthand, corrects typos, tags words with concepts
(measures, modifiers, stats, derive kinds, breakdowns, places) by longest phrase match, and
holds the intent examples for the classifier. No meaning lives in code here: to teach the bot
a word, edit the data files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import yaml

from chatbot.errors import ConfigError
from chatbot.text import Corrector, acronyms, stem, words

DATA_DIR = Path(__file__).resolve().parent / "understanding"
#: Categories whose phrases say what to do with figures, and those that say which figures.
OPERATIONS = frozenset({"derive", "direction", "comparison", "conflicts"})
CONTENT = frozenset({"measures", "modifiers", "stats"})
CATEGORIES = ("measures", "modifiers", "stats", "derive", "breakdowns", "places", "topics", "direction",
              "references", "conflicts", "comparison", "outside", "quantities", "amounts", "requests",
              "defining", "figure_words", "exclusion", "asks_reason", "reasons", "brief", "extremes")


@dataclass(frozen=True)
class Tag:
    """A concept found in text: ``stats/share`` over tokens ``start:end``."""

    category: str
    concept: str
    start: int
    end: int


def _squeeze(word: str) -> str:
    """A letter typed three or more times is one ("hiii" → "hi", "sooo" → "so"); digits stay."""
    if not any(a == b == c and a.isalpha() for a, b, c in zip(word, word[1:], word[2:], strict=False)):
        return word
    out = []
    for ch, run in groupby(word):
        n = len(list(run))
        out.append(ch if n >= 3 and ch.isalpha() else ch * n)
    return "".join(out)


def _load(name: str) -> dict:
    path = DATA_DIR / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the understanding data ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


class Understanding:
    """The vocabulary and intent examples, ready to use."""

    def __init__(self, corpus_words: Iterable[str] = (), lexicon: frozenset[str] = frozenset()) -> None:
        vocab = _load("vocabulary.yml")
        self.intents: dict[str, list[str]] = {str(k): [str(x) for x in v]
                                              for k, v in _load("intents.yml").items()}
        self.shorthand = {str(k).lower(): str(v) for k, v in (vocab.get("shorthand") or {}).items()}
        self.cased = {str(k): str(v) for k, v in (vocab.get("cased") or {}).items()}
        self.groups = [frozenset(g) for g in vocab.get("groups") or []]
        self.starters = [str(s) for s in vocab.get("starters") or []]
        self.ordinals = {str(k): int(v) for k, v in (vocab.get("ordinals") or {}).items()}
        self.joins = frozenset(str(w) for w in vocab.get("joins") or [])
        self.courtesies = sorted({tuple(words(str(p))) for p in vocab.get("courtesies") or []},
                                 key=lambda k: -len(k))
        self.courtesy_words = frozenset(w for c in self.courtesies for w in c)
        self._phrases: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        self.concepts: dict[str, set[str]] = {c: set() for c in CATEGORIES}
        for category in CATEGORIES:
            entries = vocab.get(category) or {}
            if isinstance(entries, list):  # a flat list: one concept named after the category
                entries = {category: entries}
            for concept, phrases in entries.items():
                self.concepts[category].add(str(concept))
                for phrase in phrases:
                    key = tuple(stem(w) for w in words(str(phrase)))
                    if key:
                        self._phrases.setdefault(key[0], []).append((key, category, str(concept)))
        for options in self._phrases.values():
            options.sort(key=lambda o: -len(o[0]))
        self.topic_stems = frozenset(stem(c) for c in self.concepts["topics"])
        counts: Counter[str] = Counter()
        for w in corpus_words:
            counts[w] += 1
        self.corpus_stems = frozenset(stem(w) for w in counts)
        for examples in self.intents.values():
            for e in examples:
                counts.update(words(e))
        for category in CATEGORIES:
            entries = vocab.get(category) or {}
            for phrases in (entries.values() if isinstance(entries, dict) else [entries]):
                for phrase in phrases:
                    counts.update(words(str(phrase)))
        self.known = counts
        self.known_stems = frozenset(stem(w) for w in counts)
        self.corrector = Corrector(counts, lexicon)
        self.glossaries = {str(lang): {tuple(words(str(k))): str(v or "") for k, v in entries.items()}
                           for lang, entries in (_load("glossary.yml") or {}).items()}

    def gloss(self, text: str) -> tuple[str, str] | None:
        """A message in another language read word by word (``glossary.yml``), in the language
        whose entries cover most of its words: ``(language, English)``; None when none covers
        at least half of them."""
        toks = words(text)
        names = {t for w in text.split() if w[:1].isupper() for t in words(w)}
        best: tuple[int, str, list[str], int] | None = None
        for language, entries in self.glossaries.items():
            longest = max(map(len, entries), default=1)
            out, covered, foreign, i = [], 0, 0, 0
            while i < len(toks):
                for n in range(min(longest, len(toks) - i), 0, -1):
                    key = tuple(toks[i:i + n])
                    if key not in entries and n == 1 and "'" in toks[i]:
                        key = (toks[i].split("'", 1)[1],)  # "d'entreprises": the article goes
                    if key in entries:
                        out.extend(words(entries[key]))
                        foreign += any(not self._english(w) for w in toks[i:i + n])
                        covered, i = covered + n, i + n
                        break
                else:  # no entry: a number, a name or a word of the snapshot stays
                    w = toks[i]
                    if any(c.isdigit() for c in w) or w in names or w.isascii() and w in self.known:
                        out.append(w)
                    i += 1
            if best is None or covered > best[0]:
                best = (covered, language, out, foreign)
        alpha = [t for t in toks if t.isalpha()]
        if best is None or not best[2] or 2 * best[0] < len(alpha) or not best[3]:
            return None  # an English question that uses "total" or "region" is not glossed
        return best[1], " ".join(best[2])

    def _english(self, word: str) -> bool:
        return word.isascii() and (word in self.known or word in self.corrector.lexicon)

    def tokens(self, text: str) -> list[str]:
        """Words of ``text`` with shorthand expanded, spelling variants and typos corrected; a
        word written in capitals in mixed-case text is an abbreviation, not a typo ("SHR")."""
        out: list[str] = []
        for w in map(_squeeze, words(text)):
            out.extend(words(self.shorthand[w]) if w in self.shorthand else [w])
        caps = set() if text.isupper() else {w.lower() for w in acronyms(text) if w.isupper()}
        return [w if w in caps else self.corrector.correct(self.british(w)) for w in out]

    def british(self, word: str) -> str:
        """The snapshot's (British) spelling of a word it uses ("organizations" → "organisations")."""
        if word in self.known or len(word) < 5:
            return word
        for us, uk in (("iz", "is"), ("yz", "ys"), ("or", "our"), ("er", "re"), ("ense", "ence")):
            if us in word and (variant := word.replace(us, uk)) in self.known:
                return variant
        return word

    def courtesy_split(self, toks: list[str]) -> tuple[int, int]:
        """How many leading and trailing tokens are courtesies ("hi", "thanks", "can you tell me")."""
        lead = trail = 0
        moved = True
        while moved:
            moved = False
            for c in self.courtesies:
                n = len(c)
                if 0 < n <= len(toks) - lead - trail and tuple(toks[lead:lead + n]) == c and \
                        not self._opens_phrase(toks[lead:], n):  # "hi growth compny grants"
                    lead, moved = lead + n, True
                    break
                end = len(toks) - trail
                if 0 < n <= end - lead and tuple(toks[end - n:end]) == c:
                    trail, moved = trail + n, True
                    break
        return lead, trail

    def _opens_phrase(self, toks: list[str], n: int) -> bool:
        """Do the first ``n`` tokens begin a longer vocabulary phrase ("hi growth")?"""
        keys = [key for key, _c, _k in self._phrases.get(stem(toks[0]), ()) if len(key) > n] if toks else []
        stems = [stem(t) for t in toks[:max(map(len, keys), default=0)]]
        return any(tuple(stems[:len(key)]) == key for key in keys)

    def tag(self, stemmed: list[str], categories: frozenset[str] | None = None) -> list[Tag]:
        """Concepts in a stemmed token list, longest phrase first, each token used once
        (a phrase listed under two concepts tags both). An operation's phrase ("which raised
        more", "as a share of") does not hide what it operates on: the single words inside it
        that name a measure, modifier or kind of number are tagged too (not the "how many"
        of "how many times")."""
        tags: list[Tag] = []
        i = 0
        while i < len(stemmed):
            best: list[tuple[tuple[str, ...], str, str]] = []
            for key, category, concept in self._phrases.get(stemmed[i], ()):
                if (categories is None or category in categories) and \
                        tuple(stemmed[i:i + len(key)]) == key and (not best or len(key) == len(best[0][0])):
                    best.append((key, category, concept))
            if best:
                n = len(best[0][0])
                found = list(dict.fromkeys(Tag(c, k, i, i + n) for _key, c, k in best))
                tags.extend(found)
                if categories is None and n > 1 and any(t.category in OPERATIONS for t in found):
                    inner = self.tag(stemmed[i:i + n], CONTENT)
                    tags.extend(Tag(t.category, t.concept, t.start + i, t.end + i) for t in inner
                                if t.end - t.start == 1 and (t.category, t.concept) not in
                                {(x.category, x.concept) for x in found})  # not "how many" idioms
                i += n
            else:
                i += 1
        return tags

    def phrases_of(self, category: str, concept: str) -> list[tuple[str, ...]]:
        """The (stemmed) phrases that tag ``concept``."""
        return [key for options in self._phrases.values() for key, c, k in options
                if c == category and k == concept]

    def knows(self, word: str) -> bool:
        """Is ``word`` (in any inflection) the snapshot's or the vocabulary's?"""
        return word in self.known or stem(word) in self.known_stems

    def exclusive(self, a: str, b: str) -> bool:
        """Do two modifiers exclude each other (FDI vs DDI)?"""
        return a != b and any(a in g and b in g for g in self.groups)
