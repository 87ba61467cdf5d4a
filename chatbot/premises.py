"""Premises: what a question takes for granted, checked against its evidence — a number the
snapshot contradicts or states, the figure a stated number is about, the way a figure goes, the
place a passage gives something, names a passage adds. Used by ``verdict``, which decides.
"""

from __future__ import annotations

from chatbot.facts import Facts, Metric
from chatbot.frame import Frame
from chatbot.resolve import Evidence
from chatbot.text import best_clause, proper_names, stem, words
from chatbot.tuning import CLAIM_MARGIN, MIN_COVERAGE


def all_stated(numbers, figures) -> bool:
    """Is every number stated by one of these figures (``Evidence``: the eight the question is
    closest to)?"""
    ms = [c.metric for c in figures.figures[:8]] if isinstance(figures, Evidence) else figures
    return bool(numbers) and all(any(abs(q.value - m.value) < 1e-9 * max(1.0, m.value)
                                     and (q.unit == "percent") == m.is_percent for m in ms) for q in numbers)


def claimed(f: Frame, ev: Evidence) -> Metric:
    """The figure a stated number is about: the best-ranked one of the same kind as a claim
    that names no threshold of its own — or the one stating exactly that number."""
    best = ev.figures[0].score if ev.figures else 0.0
    for q in f.numbers:
        for c in ev.figures[:8]:
            m = c.metric
            if c.score < best - CLAIM_MARGIN:
                break  # "raised 16.9% of the equity": the claim is about the equity share, wrong
            if abs(q.value - m.value) < 1e-9 * max(1.0, m.value) and (q.unit == "percent") == \
                    m.is_percent and f.modifiers <= m.modifiers and (m.measures & f.measures or
                                                                      not f.measures):
                return m  # the figure stating that very number, of what the question names
    for q in f.numbers:
        for c in ev.figures[:5]:
            m = c.metric
            if (q.unit == "percent") == m.is_percent and (q.unit in ("GBP", "USD")) == m.is_money \
                    and not (q.unit == "count" and q.noun and q.noun not in m.measures):
                return m
    return ev.figures[0].metric


def false_number(f: Frame, m: Metric) -> bool:
    """Does the question state a number for the figure that the snapshot contradicts?"""
    for q in f.numbers:
        if m.names_number(q):
            continue  # a threshold the figure itself names ("£100m+", "3.0 GPA")
        if q.unit == "count" and q.noun and q.noun not in m.measures:
            continue  # "the two recommendations": a count of something else
        same = (q.unit == "percent") == m.is_percent and (q.unit in ("GBP", "USD")) == m.is_money
        if same and abs(q.value - m.value) > 0.05 * abs(m.value):
            return True
    return False


def names_beyond(f: Frame, ev: Evidence) -> bool:
    """Does the best passage name something (a capitalised name) the question did not?"""
    good = [p for p in ev.passages if p.coverage >= MIN_COVERAGE]
    if not good:
        return False
    asked = set(f.stems) | {stem(w) for w in f.tokens}
    names = proper_names(good[0].text)
    # not a place, nor a title made of the question's own words ("£100m+ Turnover Companies")
    return any(n.lower() not in ev.corpus_places and not {stem(w) for w in words(n)} <= asked
               for n in names)


def false_direction(f: Frame, m: Metric, facts: Facts) -> bool:
    """Does the question say a figure went the other way ("why have numbers declined", "FDI
    capex was double DDI's")?"""
    actual = facts.way(m, f.first_modifier) if f.direction else ""
    return bool(actual) and actual != f.direction


def false_place(f: Frame, ev: Evidence) -> bool:
    """Does a narrative question put a place where the passage that answers it does not?"""
    places = [p for p in f.places if p != "midlands"]
    good = [p for p in ev.passages if p.coverage >= MIN_COVERAGE]
    if not (places and good) or f.excludes:  # "apart from Birmingham": not a claim about it
        return False
    text = good[0].text.lower()
    # the item of the list that names what the question is about ("BioCity Nottingham")
    parts = text.replace(":", ";").split(";")
    items = [i for i in parts if any(c in i.replace(" ", "") for c in f.content
                                     if c not in places and len(c) > 3)]
    if items and len(items) < len(parts):
        return not any(p in i for i in items for p in places)
    said = best_clause(text, [c for c in f.content if c not in places])  # "… allocated Greater
    if said and any(p in text for p in places) and not any(p in said for p in places):
        return True  # Birmingham …, with clusters also in Nottingham": the place is another clause's
    return not any(p in text for p in places) \
        and not any(p in q.text.lower() for q in ev.passages[:5] for p in places)
