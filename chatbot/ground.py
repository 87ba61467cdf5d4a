"""Grounding: no number reaches the user unless the snapshot states it or a cited calculation
produces it.

In: composed answer lines, their citations, the answer's calculations. Out: the lines that pass
and the lines dropped (with why). A line passes when every number in it appears in the quote or
source of a citation it references (by ``[n]`` marker, or any of the answer's citations when it
has none), or in one of the answer's labelled calculations whose inputs are cited.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from chatbot.records import Citation
from chatbot.text import citation_numbers, strip_citations, year_range_matches

log = logging.getLogger("chatbot.ground")

#: Digit strings as a line states them ("34,131", "1.2", "2017"), list numbering ("1. ") apart.
_NUM_RE = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS_RE = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_LIST_NUM_RE = re.compile(r"^\s*(?:[-*]\s+)?\d+\.\s", re.M)


def numbers(text: str) -> set[str]:
    """Digit strings in ``text``, separators removed ("£34,131" → "34131", "2017-21" → "2017",
    "21", "2021"); citation markers and list numbering are not numbers."""
    text = strip_citations(text)
    text = _LIST_NUM_RE.sub(" ", text)
    found: set[str] = set()
    for m in _NUM_RE.finditer(text):
        tok = m.group(0)
        if _THOUSANDS_RE.fullmatch(tok):
            tok = tok.replace(",", "")
        for part in tok.split(","):
            part = part.rstrip(".")
            if part:
                found.add(_canon(part))
    for r in year_range_matches(text):
        if r.abbreviated and (r.dashed or r.sep == "/"):
            found.add(str(r.last))  # 2017-21 also states 2021
    return found


def _canon(num: str) -> str:
    if "." in num:
        num = num.rstrip("0").rstrip(".")
    return num.lstrip("0") or "0"


def supported_numbers(citations: Sequence[Citation], calculations: Sequence[str]) -> set[str]:
    allowed: set[str] = set()
    for c in citations:
        allowed |= numbers(c.quote) | numbers(c.source) | numbers(c.document)
    for calc in calculations:
        allowed |= numbers(calc)
    return allowed


def check(lines: Sequence[str], citations: Sequence[Citation],
          calculations: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """Split ``lines`` into (kept, dropped) by the grounding rule."""
    by_number = {c.number: c for c in citations}
    calc_ok = _calculations_ok(calculations, citations)
    calc_numbers = set().union(*(numbers(c) for c in calc_ok)) if calc_ok else set()
    kept: list[str] = []
    dropped: list[str] = []
    for line in lines:
        found = numbers(line)
        if not found:
            kept.append(line)
            continue
        refs = [by_number[n] for n in citation_numbers(line) if n in by_number]
        allowed = supported_numbers(refs or citations, ()) | calc_numbers
        missing = found - allowed
        if missing:
            log.warning("grounding check dropped a line (unsupported %s): %s",
                        sorted(missing), line[:200])
            dropped.append(line)
        else:
            kept.append(line)
    return kept, dropped


#: Numbers a formula may use without a citation: they are arithmetic, not data.
CONSTANTS = frozenset({"1", "100"})


def _calculations_ok(calculations: Sequence[str], citations: Sequence[Citation]) -> list[str]:
    """Calculations whose inputs (numbers left of '=') are all in cited quotes (the constants
    1 and 100 of a formula aside)."""
    cited = supported_numbers(citations, ()) | CONSTANTS
    ok = []
    for calc in calculations:
        left = calc.split("=")[0]
        if numbers(left) <= cited:
            ok.append(calc)
        else:
            log.warning("calculation with uncited inputs refused: %s", calc)
    return ok
