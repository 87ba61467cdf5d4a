"""Text: the one place that turns characters into words and numbers. Pure functions.

In: any text (snapshot or question). Out: normalised text, word tokens, light stems,
``Quantity`` values (numbers with their unit and scale), year ranges, sentences, and typo
correction against a known vocabulary, capitalised names and acronyms, citation markers, and
amounts written the snapshot's way. Regexes here are for formal patterns only: numbers, money,
percentages, years and ranges, sentence ends, markup. Every other module asks this one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: Typographic variants that carry no meaning.
_TYPOGRAPHY = str.maketrans({
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u2014": " - ", "\u2018": "'",
    "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u202f": " ", "\u2009": " ",
})
# "r&d" is one word; "#" a number; "clúster" one (unknown) word, not "cl" and "ster"
_WORD_RE = re.compile(r"[a-z0-9£$\u00df-\u00f6\u00f8-\u00ff]+(?:[.,'][a-z0-9]+|&[a-z]+|/\d+)*%?|%|#(?![a-z])")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z])|\n+")
#: Where a sentence of the snapshot ends: a stop, then a capital, an amount or a digit.
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z£$\d])")
#: A written-out year range: "2017-21", "2017–2021", "2018/19", "2017 to 2021", "2017 and 2021".
_YEAR_RANGE_RE = re.compile(
    r"\b(?P<first>(?:19|20)\d{2})\s*(?P<sep>[-–/]|to|until|through|and)\s*(?P<last>(?:19|20)?\d{2})\b",
    re.I)
_YEAR_RE = re.compile(r"\b(?:19|20)\d{2}\b")
_CITATION_RE = re.compile(r"\[(\d+)\]")
#: Markdown of the extracted snapshot: backslash escapes and links.
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$&<>|~])")
_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)")
#: An acronym ("FDI", "NHS") and a capitalised name of two or more words ("Innovate UK").
_ACRONYM_PLURAL_RE = re.compile(r"\b[A-Z]{2,6}s?\b")
_NAME_RE = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z][a-z]+|UK|NHS))+\b")
#: A capitalised word or name that does not open a sentence ("Nottingham", "Medilink Midlands").
_PROPER_RE = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+(?:[A-Z][a-z]+|UK|NHS))*")
_SHORT_RANGE_RE = re.compile(r"(?<![\d£$.])(\d{2})\s*[-/]\s*(\d{2})(?![\d%])")
_QUANTITY_RE = re.compile(
    r"(?P<cur>[£$])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?"
    r"(?:(?P<scale>bn|billion|m|mn|million|k|thousand)\b)?\s?"
    r"(?P<pct>%|percentage points?|pp\b|per ?cent|percent)?"
    r"(?:\s?(?P<curword>pounds|dollars|gbp|usd))?", re.I)
#: What a scale word multiplies by ("£1.2m", "3 billion").
SCALES = {"bn": 1e9, "billion": 1e9, "m": 1e6, "mn": 1e6, "million": 1e6, "k": 1e3, "thousand": 1e3}
#: Currency signs of the units amounts are read in.
SIGNS = {"GBP": "£", "USD": "$"}
STOPWORDS_FILE = Path(__file__).resolve().parent / "understanding" / "stopwords.txt"


def _word_list(path: Path) -> frozenset[str]:
    """The words of a data file: one a line, ``#`` comments and blank lines skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.lstrip().startswith("#"))


#: Words that carry no topic ("the", "which"): never what a question is about.
STOPWORDS = _word_list(STOPWORDS_FILE)
#: Number words people type ("eight", "a fifth"); "one" is left out ("the money one").
NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20}
FRACTIONS = {"half": 50.0, "a third": 33.3, "a quarter": 25.0, "a fifth": 20.0, "a tenth": 10.0}


def clean(text: str) -> str:
    """Display form of snapshot text: escapes undone, bold and links unwrapped, spaces collapsed."""
    text = _LINK_RE.sub(r"\1", text)
    text = _ESCAPE_RE.sub(r"\1", text)
    text = text.replace("**", "")
    return " ".join(text.split())


def normalise(text: str) -> str:
    """NFKC, typography and runs of spaces undone; case kept."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    return " ".join(text.split())


_IS_RE = re.compile(r"\b(what|it|that|there|here|who|where|how|when|why|which)['’]s\b")


def words(text: str) -> list[str]:
    """Lower-cased word tokens; possessive "'s" dropped, thousands commas joined."""
    low = normalise(text).lower()
    if "'s" in low or "’s" in low:
        low = _IS_RE.sub(r"\1 is", low)  # "what's it" is "what is it", as typed
        low = low.replace("'s ", " ").replace("’s ", " ")  # "the cluster's" is the cluster
    return [w.replace(",", "") if any(ch.isdigit() for ch in w) else w.rstrip("'.,/") or w
            for w in _WORD_RE.findall(low)]


def stem(word: str) -> str:
    """A light plural stemmer: 'companies'→'company', 'businesses'→'business', 'funds'→'fund'.
    Verb endings stay ("funding" is not "fund"): the vocabulary lists the forms people use."""
    if len(word) <= 3 or word[-1].isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes", "uses")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def best_clause(text: str, content: Iterable[str]) -> str:
    """The clause of a sentence (split at ; : , and dashes) holding most of ``content`` (stems
    of the question's telling words); "" when no clause holds more of them than every other."""
    parts = [text]
    for mark in (";", ":", ",", " - ", " – ", " — "):
        parts = [q for p in parts for q in p.split(mark)]
    words_of = [set(stem(w) for w in words(p)) for p in parts]
    hits = sorted(((len(set(content) & w), i) for i, w in enumerate(words_of)), reverse=True)
    if len(hits) < 2 or hits[0][0] == hits[1][0]:
        return ""
    return parts[hits[0][1]].strip()


def sentences(text: str) -> list[str]:
    """Sentences (and lines) of ``text``, stripped, empty ones dropped."""
    return [s.strip() for s in _SENTENCE_RE.split(text) if s and s.strip()]


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text[start:end]`` as the snapshot ends them (a stop, then a
    capital, an amount or a digit); the whitespace between is in no span, blank spans are dropped."""
    end = len(text) if end is None else end
    spans, pos = [], start
    for m in _SENTENCE_END_RE.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def citation_numbers(text: str) -> list[int]:
    """The numbers of the citation markers in ``text``: "… [1] and [3]." → [1, 3]."""
    return [int(n) for n in _CITATION_RE.findall(text)]


def strip_citations(text: str) -> str:
    """``text`` with its citation markers blanked out (they are not numbers the text states)."""
    return _CITATION_RE.sub(" ", text)


def acronyms(text: str) -> list[str]:
    """Acronyms as written, plural "s" kept: "FDI", "NHS", "HEIs"."""
    return _ACRONYM_PLURAL_RE.findall(text)


def names(text: str) -> list[str]:
    """Capitalised names of two words or more: "Innovate UK", "Midlands Engine"."""
    return _NAME_RE.findall(text)


def proper_names(text: str) -> list[str]:
    """Capitalised words and names that do not open a sentence: "Nottingham", "Innovate UK"."""
    return _PROPER_RE.findall(text)


@dataclass(frozen=True)
class Quantity:
    """A number as written, read: 266.3e6 USD from "$266.3m"."""

    value: float  # with its scale applied
    unit: str  # GBP | USD | percent | count
    written: str
    start: int = 0
    end: int = 0
    points: bool = False  # percentage points ("11.8pp")
    noun: str = ""  # the measure named right after it ("20 universities"), set by the reader
    modifier: str = ""  # the modifier named just before it ("FDI capex ($544.21m)"), set by the reader
    definite: bool = False  # after "the" ("across the 108 investments"): a reference (reader)

    @property
    def is_year(self) -> bool:
        return self.unit == "count" and float(self.value).is_integer() and 1990 <= self.value <= 2035 \
            and "," not in self.written


def quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` with its unit and scale; years are marked, not dropped."""
    text = normalise(text)
    found: list[Quantity] = []
    for m in _QUANTITY_RE.finditer(text):
        value = float(m["num"].replace(",", ""))
        scale = SCALES.get((m["scale"] or "").lower(), 1.0)
        pct = (m["pct"] or "").lower()
        cur = m["cur"] or {"pounds": "£", "gbp": "£", "dollars": "$", "usd": "$"}.get(
            (m["curword"] or "").lower(), "")
        unit = "percent" if pct else "GBP" if cur == "£" else "USD" if cur == "$" else "count"
        found.append(Quantity(value * scale, unit, m.group(0).strip(), m.start(), m.end(),
                              points=pct == "pp" or pct.startswith("percentage")))
    low = text.lower()
    for word, value in NUMBER_WORDS.items():
        for m in re.finditer(rf"\b{word}\b", low):
            found.append(Quantity(float(value), "count", word, m.start(), m.end()))
    for word, value in FRACTIONS.items():
        for m in re.finditer(rf"\b{word}\b", low):
            found.append(Quantity(value, "percent", word, m.start(), m.end()))
    return sorted(found, key=lambda q: q.start)


def canonical(text: str) -> str:
    """Money and percentages written the snapshot's way: "16 million pounds" → "£16m",
    "27.2 per cent" → "27.2%". Other text is kept as it is."""
    text = normalise(text)
    out, pos = [], 0
    for q in quantities(text):
        if q.unit not in ("GBP", "USD", "percent") or q.written.isalpha() or q.start < pos:
            continue
        sign = SIGNS.get(q.unit, "")
        v = q.value
        size, suffix = scaled(v)
        if q.unit == "percent":
            form = f"{v:g}pp" if q.points else f"{v:g}%"
        elif suffix:
            form = f"{sign}{size:g}{suffix}"
        elif v >= 1e3 and re.search(r"k|thousand", q.written, re.I):
            form = f"{sign}{v / 1e3:g}k"
        else:
            form = f"{sign}{v:,.0f}" if float(v).is_integer() else f"{sign}{v:,.2f}".rstrip("0").rstrip(".")
        raw = text[q.start:q.end]
        lead = raw[:len(raw) - len(raw.lstrip())]
        trail = raw[len(raw.rstrip()):]
        out.append(text[pos:q.start] + lead + form + trail)
        pos = q.end
    out.append(text[pos:])
    return "".join(out)


def scaled(value: float) -> tuple[float, str]:
    """An amount in the snapshot's scale words: 1.73e6 → (1.73, "m"), 2.1e9 → (2.1, "bn");
    below a million it is kept as it is (12763.0, "")."""
    for size, suffix in ((1e9, "bn"), (1e6, "m")):
        if abs(value) >= size:
            return value / size, suffix
    return value, ""


@dataclass(frozen=True)
class YearRange:
    """A year range as written at ``start:end`` of a text: "2017-21" is 2017 to 2021."""

    first: int
    last: int  # in full
    sep: str  # as written, lower case: "-", "–", "/", "to", "and", …
    abbreviated: bool  # the last year written with two digits ("2017-21")
    start: int
    end: int

    @property
    def dashed(self) -> bool:
        return self.sep in ("-", "–")


def year_range_matches(text: str) -> list[YearRange]:
    """Year ranges written out from a four-digit year ("2017-21", "2017–2021", "2018/19",
    "2017 to 2021"), at their offsets in ``text`` as given (not normalised)."""
    out = []
    for m in _YEAR_RANGE_RE.finditer(text):
        a, b = m["first"], m["last"]
        out.append(YearRange(int(a), int(b if len(b) == 4 else a[:2] + b), m["sep"].lower(),
                             len(b) == 2, m.start(), m.end()))
    return out


def is_year(word: str) -> bool:
    """Is ``word`` a four-digit year of this century or the last ("2017")?"""
    return _YEAR_RE.fullmatch(word) is not None


def year_words(text: str) -> list[str]:
    """Four-digit years as written in ``text`` ("REF 2021" → ["2021"]), any context."""
    return _YEAR_RE.findall(text)


def year_ranges(text: str) -> list[tuple[int, int]]:
    """Year ranges written "2017-21", "2017–2021", "2017 to 2021" or "17-21" (a slash is a
    school or financial year, not a range)."""
    text = normalise(text)
    out = [(r.first, r.last) for r in year_range_matches(text) if r.sep != "/" and r.first < r.last]
    for a, b in _SHORT_RANGE_RE.findall(text):
        if 0 <= int(a) < int(b) <= 35:
            out.append((2000 + int(a), 2000 + int(b)))
    return out


def years(text: str) -> list[int]:
    """Single years written in ``text`` (those inside ranges included)."""
    return [int(q.value) for q in quantities(text) if q.is_year]


# ---------------------------------------------------------------- typo correction

#: Corrections remembered (an LRU shared by every conversation: bounded, whatever users type).
TYPO_CACHE_SIZE = 4096


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Corrector:
    """Corrects a misspelt word to the nearest known word (a SymSpell-style delete index).

    Words of four letters or more that are neither known nor in ``lexicon`` (ordinary
    English) are corrected within ``max_distance(word)`` edits, the most frequent candidate
    winning ties; answers are cached in a bounded LRU.
    """

    def __init__(self, counts: dict[str, int], lexicon: frozenset[str] = frozenset(),
                 cache_size: int = TYPO_CACHE_SIZE) -> None:
        self.counts = dict(counts)
        self.lexicon = lexicon  # correctly spelt words that are not the domain's: left alone
        self._deletes: dict[str, list[str]] = {}
        for word in self.counts:
            if len(word) >= 4 and word.isalpha():
                for d in _deletes(word, 2):
                    self._deletes.setdefault(d, []).append(word)
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        # text-speak drops vowels ("ppl", "hgh", "ths"): a word's consonant skeleton → the most
        # used known word with that skeleton (alphabetical on a tie: the same every run)
        self._skeletons: dict[str, str] = {}
        for word in sorted(self.counts, key=lambda w: (-self.counts[w], w)):
            if len(word) >= 3 and word.isalpha():
                self._skeletons.setdefault(_skeleton(word), word)

    @staticmethod
    def max_distance(word: str) -> int:
        return 1 if len(word) < 7 else 2

    def known(self, word: str) -> bool:
        return word in self.counts

    def correct(self, word: str) -> str:
        if word in self.counts or word in self.lexicon or len(word) < 3 or not word.isalpha() or \
                len(word) == 3 and _skeleton(word) != word:
            return word
        if word in self._cache:
            self._cache.move_to_end(word)
            return self._cache[word]
        limit = self.max_distance(word)
        candidates = {c for d in _deletes(word, limit) | {word} for c in self._deletes.get(d, ())}
        best, best_key = word, (limit + 1, 0, "")
        for c in candidates:  # nearest, then most used, then alphabetical: the same every run
            dist = edit_distance(word, c, limit)
            key = (dist, -self.counts[c], c)
            if dist <= limit and key < best_key:
                best, best_key = c, key
        if best == word and _skeleton(word) == word:  # no vowels after the first letter
            best = self._skeletons.get(word, word)
        self._cache[word] = best
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return best

    def correct_all(self, tokens: Iterable[str]) -> list[str]:
        return [self.correct(t) for t in tokens]


def _skeleton(word: str) -> str:
    return word[:1] + "".join(ch for ch in word[1:] if ch not in "aeiouy")


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out
