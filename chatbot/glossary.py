"""Glossary: the abbreviations the snapshot spells out, found by code in its own text.

In: the chunks of a snapshot. Out: ``{ACRONYM: ((expansion, sentence, chunk), …)}`` — each
way the snapshot spells the acronym out, with the sentence that does, to quote: first the words
it writes the acronym after ("Birmingham Health Campus (BHIC)"), then the words whose initials
spell it ("Foreign Direct Investment" for FDI, "Birmingham Health Innovation Campus"). An
acronym the snapshot never spells out (REF, HEI) has no entry: the bot does not guess.
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


def _named_pattern(acronym: str) -> re.Pattern:
    """Capitalised words followed by the acronym in brackets: "the Birmingham Health Campus (BHIC)"."""
    return re.compile(rf"((?:[A-Z][\w'-]*{_SMALL}\s+)+)\({re.escape(acronym)}\)")


Spelling = tuple[str, str, Chunk]


def build(chunks: list[Chunk]) -> dict[str, tuple[Spelling, ...]]:
    found: dict[str, tuple[Spelling, ...]] = {}
    texts = [(c, s) for c in chunks for s in sentences(c.quote)]
    found_acronyms = {a for _c, s in texts for a in acronyms(s) if a.isupper()}  # "HEIs" is plural
    for acro in sorted(found_acronyms):
        ways: list[Spelling] = []
        for pattern, group in ((_named_pattern(acro), 1), (_expansion_pattern(acro), 0)):
            m, chunk, sent = next(((m, c, s) for c, s in texts if (m := pattern.search(s))),
                                  (None, None, ""))
            if m and chunk is not None and m.group(group).strip() not in {w for w, _s, _c in ways}:
                ways.append((m.group(group).strip(), sent, chunk))
        if ways:
            found[acro] = tuple(ways)
    return found
