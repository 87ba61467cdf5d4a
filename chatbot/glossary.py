"""Glossary: the abbreviations the snapshot spells out, found by code in its own text.

In: the chunks of a snapshot. Out: ``{ACRONYM: (expansion, sentence, chunk)}`` — the words
whose initials spell the acronym ("Foreign Direct Investment" for FDI, "Office for Life
Sciences" for OLS) and the sentence that states them, to quote. An acronym the snapshot never
spells out (REF, HEI) has no entry: the bot does not guess.
"""

from __future__ import annotations

import re

from chatbot.records import Chunk
from chatbot.text import acronyms, sentences

_SMALL = r"(?:\s+(?:for|of|and|&|the|in))?"


def _expansion_pattern(acronym: str) -> re.Pattern:
    letters = [re.escape(ch) for ch in acronym]
    body = (_SMALL + r"[\s-]+").join(f"{ch}[a-z]+" for ch in letters)
    return re.compile(rf"\b{body}\b")


def build(chunks: list[Chunk]) -> dict[str, tuple[str, str, Chunk]]:
    found: dict[str, tuple[str, str, Chunk]] = {}
    texts = [(c, s) for c in chunks for s in sentences(c.quote)]
    found_acronyms = {a for _c, s in texts for a in acronyms(s) if a.isupper()}  # "HEIs" is plural
    for acro in sorted(found_acronyms):
        pattern = _expansion_pattern(acro)
        for chunk, sent in texts:
            m = pattern.search(sent)
            if m:
                found[acro] = (m.group(0), sent, chunk)
                break
    return found
