"""Scoring: judge one answer against one eval item, leniently and strictly. Pure, no model.

In: an ``EvalItem``, the ``Answer`` to its last turn, the snapshot text. Out: an ``ItemResult``
with a lenient verdict (the figure is there and cited) and a strict one, and ``summarise``
turns results into a ``SetScore``.

Lenient: an unanswerable item must be declined; an answerable one needs one alternative of
every ``must_include`` group, no ``must_not`` string and a citation holding the first figure.

Strict adds what a reader who trusts the answer needs:

- precision: outside its calculation lines an answer states at most ``MAX_FIGURES`` distinct
  numbers (citation markers and list numbers are not numbers); lists, filters,
  overviews and conflicts may state up to ``MAX_FIGURES_LISTING``; no answer is longer than
  ``MAX_CHARS`` (a dump of the snapshot is not an answer);
- relevance: at least half of an answer's citations hold something the item asks for (a
  required figure or word, a ``cite`` string, or an input of its calculation), so five
  retrieved passages around one right figure are not an answer; overviews are exempt;
- a chat reply states at most ``MAX_FIGURES_CHAT`` numbers (a greeting with a figure question is
  capped as a figure answer);
- a check of a claim starts with its verdict ("No —", "Yes —", "Not quite —");
- a declined answer fails an answerable item, whether ``answered`` is False or the text
  opens by saying the snapshot does not hold it;
- nothing of ``must_not`` is stated, not even beside the right figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from chatbot.evalsets import LISTING_CATEGORIES, VERDICT_CATEGORIES, EvalItem
from chatbot.records import Answer, Citation

#: Distinct figures a single-figure, derived, verify or follow-up answer may state.
MAX_FIGURES = 8
#: Distinct figures a list, filter, overview or conflict answer may state.
MAX_FIGURES_LISTING = 24
#: Numbers a chat reply (greeting, thanks, help) may state: a reply is not a figure dump.
MAX_FIGURES_CHAT = 2
#: Share of an answer's citations that must hold something the item asks for (its figures,
#: words or ``cite`` strings, or a calculation's inputs); overviews are exempt.
MIN_RELEVANT_CITATIONS = 0.5
#: Longest answer text (characters, calculation lines excluded) that is still an answer.
MAX_CHARS = 3000
#: Relative tolerance of a ``~value`` alternative (a derived figure, rounded by the writer).
APPROX_TOLERANCE = 0.02
RECALL_K = 5
#: How an answer that declines opens (besides ``answered=False``).
DECLINE_OPENINGS = ("the snapshot doesn't say", "the snapshot does not say", "not in the snapshot",
                    "the snapshot has no", "the snapshot doesn't hold", "i can't find",
                    "the snapshot does not hold", "no figure")

# Typographic variants that must not decide a match.
_TYPOGRAPHY = str.maketrans({
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'",
    "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u202f": " ", "\u2009": " ",
})
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$|<>~])")  # the snapshot writes "\$266.3m"
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d{3})")
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*(bn|billion|m|million|k|thousand)?\b")
_SCALE = {"bn": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6, "k": 1e3, "thousand": 1e3}
_CITATION_MARKER = re.compile(r"\[\^?\d+(?:\s*[,;]\s*\d+)*\]")
_LIST_NUMBER = re.compile(r"^\s*(?:[-*]\s+)?\d{1,2}[.)](?=\s)")
_EQUATION = re.compile(r"\d\s*[-+×x*/÷]\s*\d[^=\n]*=\s*-?\d")
_CALC_LABEL = re.compile(r"^\W*(calculation|calculated|working)s?\b")
_VERDICT_RE = re.compile(r"^\W*(yes|no|not quite)\b(?!\s+(?:figure|data|such|source))")


# ---------------------------------------------------------------- matching


def normalise(text: str) -> str:
    """Lower-case text with typography, Markdown bold/escapes and digit commas undone."""
    text = text.translate(_TYPOGRAPHY).replace("**", "")
    text = _DIGIT_COMMA.sub("", _MD_ESCAPE.sub(r"\1", text))
    return _SPACES.sub(" ", text).strip().casefold()


def mentions(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text``; numbers match whole ("5" is not in "5.09%").

    A phrase written ``~value`` (a derived figure) matches any number in ``text`` within
    ``APPROX_TOLERANCE`` of it, read with its scale ("£1.73m" is 1,730,000).
    """
    if phrase.startswith("~"):
        return approx_mentions(text, phrase[1:])
    wanted = normalise(phrase)
    if not wanted:
        return False
    left = r"(?<!\d)(?<!\d\.)" if wanted[0].isdigit() else ""
    right = r"(?!\d)(?!\.\d)" if wanted[-1].isdigit() else ""
    return re.search(left + re.escape(wanted) + right, normalise(text)) is not None


def scaled_numbers(text: str) -> list[tuple[float, float]]:
    """(as written, with its scale) for every number in ``text``: "£1.7m" → (1.7, 1700000)."""
    return [(float(m[1]), float(m[1]) * _SCALE.get(m[2] or "", 1.0))
            for m in _SCALED.finditer(normalise(text))]


def approx_mentions(text: str, target: str) -> bool:
    """Whether ``text`` states a number within ``APPROX_TOLERANCE`` of ``target``."""
    wanted = scaled_numbers(target)
    if not wanted:
        return False
    raw_t, scaled_t = wanted[0]
    for raw, scaled in scaled_numbers(text):
        for a, b in ((raw, raw_t), (scaled, scaled_t)):
            if b and abs(a - b) <= APPROX_TOLERANCE * abs(b):
                return True
    return False


def numbers_in(text: str) -> list[str]:
    """The numbers in ``text`` as normalised tokens ("£34,131" → "34131")."""
    return _NUMBER.findall(normalise(text))


def _is_calculation(line: str, calculations: list[str]) -> bool:
    return (any(c and c in line for c in calculations) or _CALC_LABEL.match(line) is not None
            or _EQUATION.search(line) is not None)


def _prose_lines(answer: Answer) -> list[str]:
    """The answer's lines outside its calculations, normalised, markers and numbering gone."""
    calculations = [normalise(c) for c in answer.calculations]
    out = []
    for raw_line in answer.text.splitlines():
        line = normalise(_LIST_NUMBER.sub("", _CITATION_MARKER.sub(" ", raw_line)))
        if not _is_calculation(line, calculations):
            out.append(line)
    return out


def figures_stated(answer: Answer) -> set[str]:
    """Distinct numbers the answer states outside calculation lines (years included)."""
    found: set[str] = set()
    for line in _prose_lines(answer):
        found.update(n.rstrip("0").rstrip(".") if "." in n else n for n in numbers_in(line))
    return found


@lru_cache(maxsize=8)
def _snapshot_numbers(snapshot_text: str) -> frozenset[str]:
    return frozenset(numbers_in(snapshot_text))


def unsupported_numbers(answer: Answer, snapshot_text: str) -> list[str]:
    """Numbers in the answer text that the snapshot nowhere states.

    Skipped: citation markers, list numbering, numbers on a calculation line and numbers of
    ``answer.calculations``, whose results are derived.
    """
    known = _snapshot_numbers(snapshot_text)
    derived = {n for c in answer.calculations for n in numbers_in(c)}
    found: list[str] = []
    for line in _prose_lines(answer):
        for number in numbers_in(line):
            if number not in known and number not in derived and number not in found:
                found.append(number)
    return found


def _derived_from_quotes(answer: Answer) -> set[str]:
    """Results of calculations whose operands are all in cited quotes."""
    quoted = set(numbers_in(" \n ".join(c.quote for c in answer.citations))) | {"1", "100"}
    derived: set[str] = set()
    for calc in answer.calculations:
        operands, _, result = normalise(calc).rpartition("=")
        if operands and all(n in quoted for n in numbers_in(operands)):
            derived.update(numbers_in(result))
    return derived


def citation_support(item: EvalItem, answer: Answer) -> bool | None:
    """Whether a cited quote (or a calculation over cited quotes) holds each numeric
    ``must_include`` figure the answer states; None when not applicable."""
    stated = [[a for a in g if any(ch.isdigit() for ch in a) and mentions(answer.text, a)]
              for g in item.must_include]
    numeric = [g for g in stated if g]
    if not item.answerable or not answer.answered or not numeric:
        return None
    quotes = " \n ".join(c.quote for c in answer.citations)
    derived = _derived_from_quotes(answer)
    return all(any(mentions(quotes, alt) or alt.startswith("~") or set(numbers_in(alt)) <= derived
                   for alt in group) for group in numeric)


def gold_rank(item: EvalItem, answer: Answer) -> int | None:
    """1-based rank of the best-placed gold chunk in ``answer.retrieved``; None if absent."""
    gold = set(item.gold_chunks)
    return next((i for i, cid in enumerate(answer.retrieved, start=1) if cid in gold), None)


#: Footnote markers ("³Wavteq 2022") point to a note; they are not the snapshot's words.
_MARKERS = str.maketrans("", "", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _cite_ok(item: EvalItem, answer: Answer) -> bool:
    if item.cite is not None:
        parts = [p.translate(_MARKERS) for c in answer.citations for p in (c.source, c.section, c.quote)]
        return any(mentions(p, _cite_words(want)) for p in parts for want in item.cite)
    if not item.must_include:
        return True
    first = item.must_include[0]
    if any(mentions(c.quote, alt) for c in answer.citations for alt in first):
        return True
    derived = _derived_from_quotes(answer)  # a calculation is cited through its inputs
    if any(alt.startswith("~") for alt in first) and derived:
        return any(approx_mentions(" ".join(derived), alt[1:]) for alt in first if alt[0] == "~")
    return any(set(numbers_in(alt)) and set(numbers_in(alt)) <= derived for alt in first)


def _cite_words(want: str) -> str:
    """A cite string as words: without footnote markers, Markdown emphasis ("**5**"), a
    heading's closing colon or a sentence's closing full stop."""
    return want.translate(_MARKERS).replace("**", "").strip().rstrip(":.").strip() or want


def relevant_citations(item: EvalItem, answer: Answer) -> float | None:
    """Share of the answer's citations that hold something ``item`` asks for; None when the
    item asks for nothing checkable or is an overview."""
    wanted = [alt for group in item.must_include for alt in group if not alt.startswith("~")]
    wanted += [_cite_words(c) for c in item.cite or ()]
    operands = {n for calc in answer.calculations
                for n in numbers_in(normalise(calc).rpartition("=")[0])}
    if item.category == "overview" or not answer.citations or not (wanted or operands):
        return None
    held = 0
    for c in answer.citations:
        parts = [p.translate(_MARKERS) for p in (c.quote, c.source, c.section)]
        if any(mentions(p, w) for p in parts for w in wanted) or operands & set(numbers_in(c.quote)):
            held += 1
    return held / len(answer.citations)


_WORD = re.compile(r"[^\W\d_]{3,}")
#: Words that say nothing about what a question asks.
_FUNCTION_WORDS = frozenset(
    "the and for are was were what which who whom how why when where does did this that these "
    "those there their they them you your with from about into have has had can could would "
    "should will shall tell give show please any many much some more most less than then also "
    "just only not but its it's our ours his her she him me my mine is snapshot report say says "
    "said doesn don isn hold holds".split())


def specific_decline(item: EvalItem, answer: Answer) -> bool:
    """Whether a decline names something the question asked or offers something instead."""
    if answer.nearest or answer.suggestions:
        return True
    asked = {w.casefold().rstrip("s") for w in _WORD.findall(item.turns[-1])} - _FUNCTION_WORDS
    said = {w.casefold().rstrip("s") for w in _WORD.findall(answer.text)}
    return bool(asked & said)


def declined(answer: Answer) -> bool:
    """Whether the answer says the snapshot does not hold what was asked."""
    opening = normalise(answer.text)[:80]
    return not answer.answered or opening.startswith(DECLINE_OPENINGS)


# ---------------------------------------------------------------- judging


@dataclass(frozen=True)
class ItemResult:
    """How one answer scored."""

    id: str
    category: str
    answerable: bool
    correct: bool  # lenient
    strict: bool
    refused: bool  # answered False
    reasons: list[str]  # why it fails strictly (lenient reasons come first)
    citation_supported: bool | None
    unsupported_numbers: list[str]
    gold_rank: int | None
    has_gold: bool
    latency_s: float
    figures: int = 0
    turns: tuple[str, ...] = ()
    answer_text: str = ""
    citations: tuple[Citation, ...] = ()
    kind: str = ""
    errored: bool = False


def lenient_reasons(item: EvalItem, answer: Answer) -> list[str]:
    """Why the answer fails the lenient reading (empty: it passes)."""
    reasons: list[str] = []
    if not item.answerable:
        if answer.answered:
            reasons.append("answered a question the snapshot does not hold")
        return reasons
    if not answer.answered:
        return ["declined a question the snapshot answers"]
    for group in item.must_include:
        if not any(mentions(answer.text, alt) for alt in group):
            reasons.append(f"missing one of {list(group)}")
    for bad in item.must_not:
        if mentions(answer.text, bad):
            reasons.append(f"states {bad!r}")
    if not _cite_ok(item, answer):
        wanted = item.cite if item.cite is not None else item.must_include[0]
        reasons.append(f"no citation holds one of {list(wanted)}")
    return reasons


def strict_reasons(item: EvalItem, answer: Answer) -> list[str]:
    """What the strict reading adds to the lenient one (empty: nothing more)."""
    reasons: list[str] = []
    if not item.answerable:
        stated = [f"states {bad!r}" for bad in item.must_not if mentions(answer.text, bad)]
        if not answer.answered and not specific_decline(item, answer):
            stated.append("declines with a stock phrase: names nothing asked and offers nothing")
        return stated
    if answer.answered and declined(answer):
        reasons.append("declines in its text while marked answered")
    if not answer.answered:
        return reasons
    listing = item.category in LISTING_CATEGORIES
    figure_asked = any(ch.isdigit() for group in item.must_include for alt in group for ch in alt)
    cap = MAX_FIGURES_LISTING if listing else MAX_FIGURES_CHAT if item.category == "chat" \
        and not figure_asked else MAX_FIGURES  # "hiya! what's the FDI %?" asks for a figure
    stated = figures_stated(answer)
    if len(stated) > cap:
        reasons.append(f"states {len(stated)} figures (at most {cap} for a {item.category} question)")
    length = sum(len(line) for line in _prose_lines(answer))
    if length > MAX_CHARS:
        reasons.append(f"{length} characters long (a dump, not an answer; at most {MAX_CHARS})")
    relevant = relevant_citations(item, answer)
    if relevant is not None and relevant < MIN_RELEVANT_CITATIONS:
        reasons.append(f"only {relevant:.0%} of its citations hold anything asked for")
    verdict = item.verdict or ("no" if item.category == "false_premise" else None)
    if verdict or item.category in VERDICT_CATEGORIES:
        found = _VERDICT_RE.match(normalise(answer.text))
        said = found.group(1) if found else None
        if said != verdict:
            reasons.append(f"does not open with its verdict {verdict!r} (opens {said or 'without one'})")
    return reasons


def score(item: EvalItem, answer: Answer, latency_s: float, snapshot_text: str) -> ItemResult:
    """Score the last answer of a conversation against ``item``. Pure."""
    lenient = lenient_reasons(item, answer)
    extra = strict_reasons(item, answer)
    return ItemResult(
        id=item.id,
        category=item.category,
        answerable=item.answerable,
        correct=not lenient,
        strict=not lenient and not extra,
        refused=not answer.answered,
        reasons=lenient + [r for r in extra if r not in lenient],
        citation_supported=citation_support(item, answer),
        unsupported_numbers=unsupported_numbers(answer, snapshot_text),
        gold_rank=gold_rank(item, answer),
        has_gold=bool(item.gold_chunks),
        latency_s=latency_s,
        figures=len(figures_stated(answer)),
        turns=item.turns,
        answer_text=answer.text,
        citations=tuple(answer.citations),
        kind=answer.kind,
    )


def errored(item: EvalItem, exc: BaseException, latency_s: float) -> ItemResult:
    """A failed item for an exception raised by the chatbot."""
    return ItemResult(
        id=item.id, category=item.category, answerable=item.answerable, correct=False,
        strict=False, refused=False, reasons=[f"error: {type(exc).__name__}: {exc}"],
        citation_supported=None, unsupported_numbers=[], gold_rank=None,
        has_gold=bool(item.gold_chunks), latency_s=latency_s, turns=item.turns, errored=True,
    )
