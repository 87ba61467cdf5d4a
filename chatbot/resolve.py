"""Resolve: a ``Frame`` → the figures and sentences of the snapshot it is about, ranked.

In: a frame, the ``Facts``, the chunks and the hybrid retriever. Out: ``Evidence`` — figure
``Candidate``s (each with one score and what of the question it leaves unmet) and sentence
``Passage``s. Nothing is decided here: the verdict stage reads the scores.

A figure's score adds up what it shares with the question: its measures (hard: a figure of
another measure is not a candidate), its modifiers (FDI never answers DDI), the kind of
number (share, count, amount, growth), the question's words in its label (weighted by
rarity) and how close its passage came in retrieval. Sentences are ranked by the question's
words they hold and their passage's retrieval score.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from chatbot.facts import Facts, Metric
from chatbot.frame import Frame
from chatbot.records import Chunk
from chatbot.text import sentences, stem, words
from chatbot.tuning import (
    FETCH,
    LEXICAL_FULL,
    PRIMARY,
    UNKNOWN_WEIGHT,
    UNMET,
    W_MEASURE,
    W_MODIFIER,
    W_RETRIEVAL,
    W_SENTENCE,
    W_STAT,
    W_WORDS,
)

PASSAGE_KINDS = ("prose", "list", "footnote", "figure", "table_row")


@dataclass(frozen=True)
class Candidate:
    metric: Metric
    score: float
    unmet: tuple[str, ...] = ()  # places, years or words of the question the figure lacks


@dataclass(frozen=True)
class Passage:
    text: str  # one sentence or list item, the snapshot's own words
    chunk: Chunk
    score: float
    coverage: float  # share of the question's words (by rarity) it holds


@dataclass(frozen=True)
class Evidence:
    figures: tuple[Candidate, ...]
    passages: tuple[Passage, ...]
    retrieved: tuple[str, ...]  # chunk ids, best first
    corpus_places: frozenset[str] = frozenset()  # places the snapshot mentions anywhere
    prose_only: frozenset[str] = frozenset()  # words only figure-less sections use


class Resolver:
    """Ranks figures and sentences for frames."""

    def __init__(self, facts: Facts, chunks: list[Chunk], retriever) -> None:
        self.facts = facts
        self.retriever = retriever
        self.chunks = chunks
        self._places: frozenset[str] | None = None
        self._concept_phrases: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {}
        self._rarity: dict[str, float] = {}  # measure → rarity (the facts do not change)
        self.chunk_of: dict[str, Chunk] = {}
        for m in facts.metrics:  # the smallest passage that states the figure
            mine = [c for c in chunks if c.document == m.document and c.kind != "chart"]
            holders = [c for c in mine if m.quote[:40] in c.quote] or \
                [c for c in mine if c.start <= m.start < c.end] or \
                [c for c in mine if c.start <= m.start + len(m.quote) and m.start <= c.end]
            if holders:
                self.chunk_of[m.metric_id] = min(holders, key=lambda c: c.end - c.start)
        df: dict[str, int] = {}
        texts = [c.text for c in chunks] + [m.label for m in facts.metrics]
        for t in texts:
            for s in {stem(w) for w in words(t)}:
                df[s] = df.get(s, 0) + 1
        n = len(texts)
        self.idf = {s: math.log(1 + n / d) for s, d in df.items()}
        self.df = {s: d / n for s, d in df.items()}  # share of passages using a word
        # Words only sections without figures use ("roundtable", "procurement", "NHS"): a figure
        # question about them has no figure to answer it.
        with_figures = {m.section for m in facts.metrics}
        near_figures = {stem(w) for c in chunks if c.section in with_figures for w in words(c.text)}
        lower = {w for c in chunks for w in re.findall(r"\b[a-z]+\b", c.quote)}
        names = {stem(w.lower()) for c in chunks if c.section not in with_figures
                 for w in re.findall(r"\b(?:[A-Z]{2,}s?|[A-Z][a-z]+)\b", c.quote) if w.lower() not in lower}
        headings = {stem(w) for c in chunks if c.section not in with_figures
                    for w in words(c.section + " " + c.text[:len(c.text) - len(c.quote)])}
        self.prose_only = frozenset(names | headings) - near_figures
        self.unseen_idf = math.log(1 + n)
        # Each passage's sentences with the words they can be found by: their own, their
        # section's, and for a list item its heading ("Recommendations for UK policy").
        self._sentences: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for c in chunks:
            if c.kind not in PASSAGE_KINDS:
                continue
            around = {stem(w) for w in words(c.section)}
            if c.kind == "list":
                around |= {stem(w) for w in words(c.text)}
            texts = (sentences(c.quote) if c.kind == "prose" else [c.quote]) or [c.quote]
            self._sentences[c.chunk_id] = [(t, frozenset({stem(w) for w in words(t)} | around))
                                           for t in texts]
        # the words of the sentence that states each figure (a paragraph states several)
        self.sentence_of: dict[str, frozenset[str]] = {}
        for mid, c in self.chunk_of.items():
            quote = facts.by_id[mid].quote[:40]
            self.sentence_of[mid] = next((have for t, have in self._sentences.get(c.chunk_id, ())
                                          if quote in t), frozenset())

    @property
    def places(self) -> frozenset[str]:
        """The vocabulary's places that the snapshot's text mentions."""
        if self._places is None:
            text = " ".join(c.text for c in self.chunks).lower()
            u = self.facts.understanding
            self._places = frozenset(p for p in u.concepts["places"]
                                     if any(" ".join(k) in text for k in u.phrases_of("places", p)))
        return self._places

    def rarity(self, measure: str) -> float:
        """How telling a measure is: rare ones ("accelerator") outweigh common ones ("business")."""
        if measure not in self._rarity:
            n = len(self.facts.by_measure.get(measure, ())) or 1
            self._rarity[measure] = math.log(1 + len(self.facts.metrics) / n)
        return self._rarity[measure]

    def _phrases(self, category: str, concept: str) -> tuple[tuple[str, ...], ...]:
        key = (category, concept)
        if key not in self._concept_phrases:
            self._concept_phrases[key] = tuple(self.facts.understanding.phrases_of(category, concept))
        return self._concept_phrases[key]

    def weight(self, s: str) -> float:
        return self.idf.get(s, self.unseen_idf)

    @property
    def empty(self) -> Evidence:
        return Evidence((), (), (), self.places, self.prose_only)

    def evidence(self, frame: Frame, figures: bool = True, passages: bool = True) -> Evidence:
        topics = [c for c in frame.content if c not in frame.stems]  # from the topics vocabulary
        hits = self.retriever.search(" ".join([frame.text, *topics]), k=FETCH)
        near = closeness(hits)
        figs = self.figures(frame, near) if figures else ()
        pas = self.passages(frame, hits, near) if passages else ()
        return Evidence(tuple(figs), tuple(pas), tuple(h.chunk.chunk_id for h in hits), self.places,
                        self.prose_only)

    # ---------------------------------------------------------------- figures

    def figures(self, frame: Frame, near: dict[str, float]) -> list[Candidate]:
        pool = self.facts.metrics
        if frame.measures:
            seen: set[str] = set()
            pool = [m for x in frame.measures for m in self.facts.by_measure.get(x, [])
                    if not (m.metric_id in seen or seen.add(m.metric_id))]
        if frame.documents:
            pool = [m for m in pool if m.document.split(" — ")[0] in
                    {d.split(" — ")[0] for d in frame.documents}]
        asked = self._asked(frame)
        if not frame.measures:  # every figure is a candidate: keep those with some evidence
            pool = [m for m in pool if self._evident(frame, m, near, asked)]
        out = []
        for m in pool:
            s = self.score(frame, m, near, asked)
            if s is not None:
                unmet = self.unmet(frame, m, asked)
                out.append(Candidate(m, s - UNMET * len(unmet), unmet))
        out.sort(key=lambda c: (-c.score, self.facts.position[c.metric.metric_id]))
        return out

    def _evident(self, f: Frame, m: Metric, near: dict[str, float], q: _Asked) -> bool:
        """Does anything but its kind of number tie the figure to the question: a retrieved
        chunk, a modifier, a telling word in its label or sentence?"""
        chunk = self.chunk_of.get(m.metric_id)
        if chunk is not None and near.get(chunk.chunk_id, 0.0) > 0 or f.modifiers & m.modifiers:
            return True
        said_in = self.sentence_of.get(m.metric_id) or ()
        return any(c in m.label_stems or c in said_in for c in f.content)

    def _asked(self, f: Frame) -> _Asked:
        """What a question asks, worked out once for all the figures it is scored against."""
        u = self.facts.understanding
        measures = u.concepts["measures"]
        compound = frozenset(f.compound[:-1]) if len(f.compound) > 1 else frozenset()
        content = tuple(c for c in f.content if c not in measures)
        weights = {c: self.weight(c) for c in f.content}
        place_words = frozenset(w for x in f.places for key in self._phrases("places", x) for w in key)
        unplaced = [c for c in content if c not in place_words]
        return _Asked(
            rare_total=sum(self.rarity(x) for x in f.measures) or 1.0,
            lead=max(f.compound, key=self.rarity) if len(f.compound) > 1 else f.lead,
            stats=frozenset(f.stats | ({"percent"} if any(q.unit == "percent" for q in f.numbers) else set())
                            | ({"growth"} if f.direction and not f.stats else set())),
            modifier_words={x: frozenset(w for key in self._phrases("modifiers", x) for w in key)
                            for x in f.modifiers},
            place_words=place_words,
            compound_words={x: frozenset(w for key in self._phrases("measures", x) for w in key)
                            for x in compound},
            content=content, weights=weights,
            content_total=sum(weights[c] for c in f.content) or 1.0,
            unplaced=unplaced, unplaced_total=sum(weights[c] for c in unplaced),
            prose_unmet=tuple(c for c in dict.fromkeys(f.content) if c in self.prose_only and c in f.stems))

    def score(self, f: Frame, m: Metric, near: dict[str, float], q: _Asked | None = None) -> float | None:
        """The figure's fit to the question; None when it cannot be the answer."""
        u = self.facts.understanding
        q = q or self._asked(f)
        s = 0.0
        if f.set_aside & (m.measures | m.modifiers):
            return None  # "the HE number only, not FE": not a figure that counts FE
        if f.measures:
            shared = f.measures & m.measures
            if not shared:
                return None
            rare = sum(self.rarity(x) for x in shared) / q.rare_total
            s += W_MEASURE * (rare + 0.25 * len(shared) / len(m.measures))
            # what the question names first; of words side by side, the most telling one
            s += 0.5 * W_MEASURE * (q.lead in m.measures)
            s += 0.5 * W_MEASURE * (shared == f.measures)  # everything it names
            s -= 0.75 * W_MEASURE * len(m.measures - f.measures)  # about something else too
        for x in f.modifiers:
            if x in m.modifiers:
                s += W_MODIFIER
            elif any(u.exclusive(x, y) for y in m.modifiers):
                if not any(y in f.modifiers for y in m.modifiers):  # "FDI and DDI" wants both
                    return None
            else:
                s -= W_MODIFIER * (2 if x == "national" else 1.5)
        s -= 0.6 * W_MODIFIER * len(m.modifiers - f.modifiers)
        s += W_STAT * _stat_fit(q.stats, m)
        # words naming a modifier the figure shares ("domestic direct investment") count once;
        # a place is met or unmet (see ``unmet``), not a telling word of the label; nor is the
        # "university" of "university spin-offs"
        extra = [q.modifier_words[x] for x in f.modifiers & m.modifiers] + \
            [w for x, w in q.compound_words.items() if x in m.measures]
        content = [c for c in q.content if c not in q.place_words.union(*extra)] if extra else q.unplaced
        if content:  # the question's telling words in the label: two rare ones make a full match
            matched = sum(q.weights[c] for c in content if c in m.label_stems)
            total = sum(q.weights[c] for c in content) if extra else q.unplaced_total
            s += W_WORDS * (0.75 * min(1.0, matched / LEXICAL_FULL) + 0.25 * matched / total)
        chunk = self.chunk_of.get(m.metric_id)
        s += W_RETRIEVAL * near.get(chunk.chunk_id, 0.0) if chunk else 0.0
        said_in = self.sentence_of.get(m.metric_id)
        if said_in and f.content:  # how much of the question the figure's own sentence says
            s += W_SENTENCE * sum(q.weights[c] for c in f.content if c in said_in) / q.content_total
        if f.ranges:
            s += 1.0 if any(_in_period(r, m.period) for r in f.ranges) else -1.5
        s += 0.3 * bool(m.source) - 0.3 * (m.kind in ("bullet", "prose"))
        s += PRIMARY * (m.kind in ("figure", "table_row") and not f.stats)  # a panel's headline
        return round(s, 4)

    def unmet(self, f: Frame, m: Metric, q: _Asked | None = None) -> tuple[str, ...]:
        """What the question asks that the figure does not state: a place, a single year."""
        prose = q.prose_unmet if q else \
            tuple(c for c in dict.fromkeys(f.content) if c in self.prose_only and c in f.stems)
        if not f.years and not set(f.places) - {"midlands"}:
            return prose
        text = (m.label + " " + m.quote + " " + m.period).lower()
        out = [p for p in f.places if p != "midlands" and p not in text]
        out += prose
        for y in f.years:
            if any(a <= y <= b for a, b in f.ranges):
                continue
            if str(y) not in m.period and str(y) not in m.label:
                out.append(str(y))
        return tuple(out)

    # ---------------------------------------------------------------- sentences

    def passages(self, frame: Frame, hits, near: dict[str, float]) -> list[Passage]:
        # Only words the snapshot uses can be found in it; the rest do not count against a passage.
        content = [c for c in dict.fromkeys(frame.content) if c in self.idf]
        unknown = [c for c in dict.fromkeys(frame.content) if c not in self.idf]
        total = sum(self.weight(c) for c in content) + UNKNOWN_WEIGHT * len(unknown) or 1.0
        out = []
        for h in hits:
            for text, have in self._sentences.get(h.chunk.chunk_id, ()):
                cov = sum(self.weight(c) for c in content if c in have) / total
                out.append(Passage(text, h.chunk, round(cov + 0.5 * near[h.chunk.chunk_id], 4),
                                   round(cov, 3)))
        out.sort(key=lambda p: -p.score)
        return out


@dataclass(frozen=True)
class _Asked:
    """The per-question parts of a figure's score (see ``Resolver._asked``)."""

    rare_total: float
    lead: str
    stats: frozenset[str]
    modifier_words: dict[str, frozenset[str]]
    place_words: frozenset[str]
    compound_words: dict[str, frozenset[str]]
    content: tuple[str, ...]
    weights: dict[str, float]
    content_total: float
    unplaced: list[str]  # its telling words less those naming a place
    unplaced_total: float
    prose_unmet: tuple[str, ...]  # words only the prose uses ("countries"): no figure meets them


def closeness(hits) -> dict[str, float]:
    """How close each retrieved chunk came to the question, 0…1: the mean of its dense cosine
    and its BM25 score, each scaled to the best of this question's chunks."""
    sims = [h.dense_sim for h in hits if h.dense_sim is not None]
    lo, hi = (min(sims), max(sims)) if sims else (0.0, 1.0)
    top = max((h.bm25 for h in hits), default=0.0) or 1.0
    out = {}
    for h in hits:
        dense = (h.dense_sim - lo) / (hi - lo) if h.dense_sim is not None and hi > lo else None
        lexical = h.bm25 / top
        out[h.chunk.chunk_id] = lexical if dense is None else 0.5 * (dense + lexical)
    return out


def _stat_fit(asked: frozenset[str], m: Metric) -> float:
    """How well the figure's kind of number fits what is asked (−1 … +1)."""
    fit = 0.0
    if not asked & {"share", "growth", "percent"} and m.stats & {"share", "growth"}:
        fit -= 0.5  # "what was X" asks for X itself, not its share of a total or its growth
    if "percent" in asked and not asked & {"share", "growth"}:
        fit += 1.0 if m.is_percent else -1.5
    if "share" in asked:
        fit += 1.0 if "share" in m.stats else -1.5
    if "growth" in asked:
        fit += 1.0 if "growth" in m.stats else -1.5
    if "money" in asked:
        fit += 0.6 if m.is_money else -1.0
    if "count" in asked and not asked & {"share", "growth"}:
        fit += 0.5 if m.is_count else -1.0
    if "mean" in asked:
        fit += 0.5 if "mean" in m.stats else -0.3
    return fit


def _in_period(r: tuple[int, int], period: str) -> bool:
    from chatbot.text import year_ranges

    return r in year_ranges(period) or f"{r[0]}" in period and f"{r[1]}" in period
