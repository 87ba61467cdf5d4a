"""Slots: what the words of one clause fill, read from its tokens and vocabulary tags — the
noun a question asks for ("how many [NHS trusts]"), the measure and modifier written with a
number ("FDI capex ($544.21m)", "20 [universities]"), measures side by side, where the question
proper opens. Used by ``read``; nothing here decides what is asked.
"""

from __future__ import annotations

import re
from dataclasses import replace

from chatbot.text import STOPWORDS, Quantity

#: Tag categories that ask for a number of whatever follows ("the [value] of", "GVA per head").
AMOUNTS = ("quantities", "amounts")


WH = frozenset("what which who whom whose where when why how".split())
#: Where a clause's parts begin: "In the business figures, which …", "… region - how many …".
PARTS_RE = re.compile(r"[,;:–—]|\s-\s")


def wh_question(toks: list[str], text: str) -> bool:
    """Does a clause, or a part of it after a comma ("In the business figures, which ones …"),
    open with a question word — not "how the job numbers differ" without a question mark?"""
    return bool(toks) and toks[0] in WH and not (toks[1:2] in (["the"], ["a"])
                                                 and not text.rstrip().endswith("?"))
#: Openings after which comes the noun a question asks for ("what is the [population] of").
_OPENINGS = (("what", "the"), ("what", "is", "the"), ("what", "was", "the"), ("what", "are", "the"),
             ("what", "were", "the"), ("who", "is", "the"), ("who", "are", "the"), ("who", "runs"),
             ("who", "leads"), ("who", "owns"))


def asked(toks: list[str], tags) -> tuple[str, bool, tuple[str, ...], bool]:
    """The head noun after "how many" / "what is the" ("how many [NHS trusts] are there" →
    "trusts") and whether its phrase names a measure the vocabulary knows."""
    starts = [t.end for t in tags if t.category == "stats" and t.concept == "count" and t.start <= 2
              and not any(m.category == "measures" and m.end <= t.start for m in tags)]  # "biz count"
    for opening in _OPENINGS:
        n = len(opening)
        starts += [i + n for i in range(len(toks) - n + 1) if tuple(toks[i:i + n]) == opening]
    if not starts:
        return "", False, (), False
    begin = end = min(starts)
    while end < len(toks) and toks[end] not in STOPWORDS and toks[end].isalpha():
        end += 1
    inside = [t for t in tags if t.start < end and t.end > begin and t.category not in AMOUNTS]
    quantity = any(t.category in AMOUNTS for t in tags if t.start < end and t.end > begin) or \
        any(t.category == "stats" and t.end == begin and t.concept == "count" and t.start <= 2
            for t in tags)
    if end == begin:
        return "", False, (), quantity
    return toks[end - 1], bool(inside), tuple(toks[begin:end]), quantity


def noun(q: Quantity, toks: list[str], tags, text: str, joins: frozenset[str]) -> Quantity:
    """The count with the measure named right after it ("20 [universities]"), if any; a word
    after a dash or a comma is not its noun ("about 5,700 — correct?"). Any number: the
    modifier written with it, not across a word that ``joins`` two claims ("17% of UK and FDI …")."""
    written = q.written.lower().replace(",", "")
    before = text[:q.start].split()[-1:]
    q = replace(q, definite=before in (["the"], ["The"], ["those"], ["these"]))  # "of the 67 firms"
    at = next((i for i, t in enumerate(toks) if t == written), None)
    if at is None:
        return q
    of = toks[at + 1:at + 2] == ["of"]  # "7% of UK FDI projects": the modifier after it;
    stop = next((i for i in range(at + 1, min(len(toks), at + 5)) if toks[i] in joins), at + 5)
    mods = [t for t in tags if t.category == "modifiers" and (  # "FDI capex ($544.21m)": before
        at < t.start < stop if of else at - 3 <= t.end <= at and not joins & set(toks[t.end:at]))]
    q = replace(q, modifier=(mods[0] if of else mods[-1]).concept) if mods else q
    if q.unit == "percent" and of:  # "16.9% of the sector's [HG] businesses": what it is a share of
        whole = next((t for t in tags if t.category == "measures" and at < t.start < stop), None)
        return replace(q, noun=whole.concept) if whole is not None else q
    if q.unit != "count":
        return q
    after = next((t for t in tags if t.category == "measures" and at < t.start <= at + 3), None)
    if after is None:  # "the two [recommendations]": a count of something no figure measures
        word = next((w for w in toks[at + 1:at + 3] if w.isalpha() and w not in STOPWORDS), "")
        after_gap = text[q.end:].lstrip(" \t'\"‘’“”")  # a word follows, not a dash or a comma
        return replace(q, noun=word if after_gap[:1].isalpha() else "")
    return replace(q, noun=after.concept)


def joined(toks: list[str], tags) -> bool:
    """Are two measures asked side by side ("spinouts and accelerators", "jobs, projects")?"""
    spans = sorted((t.start, t.end) for t in tags if t.category == "measures")
    return any(any(tok in ("and", "plus", "&", ",", "n") for tok in toks[a_end:b_start])
               and b_start - a_end <= 3 for (_a, a_end), (b_start, _b) in zip(spans, spans[1:], strict=False))


def opening(toks: list[str], tags) -> int:
    """Where a clause's claims start ("BETER what is …" → 1; "jobs dropped — why?" → 0)."""
    at = next((i for i, w in enumerate(toks) if w in WH), 0)
    return 0 if any(t.category == "measures" and t.start < at for t in tags) else at


def compound(tags) -> tuple[str, ...]:
    """The measures of the first run of adjacent measure words, in order."""
    run: list = []
    for t in sorted((t for t in tags if t.category == "measures"), key=lambda t: t.start):
        if run and t.start > run[-1].end:
            break
        run.append(t)
    return tuple(dict.fromkeys(t.concept for t in run))


def heads(toks: list[str], tags, categories: tuple[str, ...]):
    """The phrase of ``category`` heading the clause ("population of Birmingham?", "GVA per head?")."""
    places = {i for t in tags if t.category == "places" for i in range(t.start, t.end)}
    first = next((i for i, w in enumerate(toks) if w not in STOPWORDS and i not in places), None)
    return next((t for t in tags if t.category in categories and t.start == first), None)
