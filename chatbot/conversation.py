"""Conversation: per-conversation state (slots) carried between turns, and follow-up rewriting.

In: a question and the previous turn's ``State``. Out: the question the engine should answer
("And domestic?" after FDI jobs → "DDI jobs") or a follow-up *move* on the last answer
(its national comparison, its UK share, its source). One ``Conversation`` per user; no globals,
so many users never share state. A lock makes one conversation safe to share across threads.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace

from chatbot.question import Question

_SHORT = 6  # a question with at most this many words leans on the previous turn


@dataclass(frozen=True)
class State:
    """What the conversation knows after a turn."""

    metric_ids: tuple[str, ...] = ()  # last answered metrics
    labels: tuple[str, ...] = ()  # their labels (a follow-up borrows their words)
    section: str = ""  # last section talked about
    types: frozenset[str] = field(default_factory=frozenset)  # fdi / ddi
    measures: frozenset[str] = field(default_factory=frozenset)  # capex / jobs / projects
    share: bool = False
    kind: str = ""
    question: str = ""
    turns: int = 0


@dataclass(frozen=True)
class Plan:
    """How to answer a turn: a rewritten question and/or a move on the last metrics."""

    text: str
    move: str = ""  # "" | national | share | provenance | same
    base: tuple[str, ...] = ()  # metric ids the move applies to
    rewritten: bool = False


def is_followup(q: Question, state: State) -> bool:
    if not state.turns:
        return False
    n_words = len(q.text.split())
    return q.followup or n_words <= _SHORT


def plan(q: Question, state: State, own_confident: bool) -> Plan:
    """Decide how the previous turn shapes this one. Pure."""
    if not is_followup(q, state) or not state.metric_ids and not state.section:
        return Plan(q.text)
    base = state.metric_ids
    bare = not [k for k in q.key if k not in _MOVE_WORDS]
    if base and q.provenance and (q.followup or not own_confident or bare
                                  or len(q.text.split()) <= 5):
        return Plan(q.text, "provenance", base)
    if base and q.national and (q.followup or not own_confident or bare):
        return Plan(q.text, "national", base)
    if base and q.share and (bare or not own_confident) and not (q.types or q.measures):
        return Plan(q.text, "share", base)
    short = len(q.text.split()) <= 5 or bool(re.match(
        r"(?i)\s*(and|what about|how about|and what about|what of)\b", q.text))
    if (q.types or q.measures) and (state.types or state.measures) and (not own_confident or short):
        types = q.types or state.types
        measures = q.measures or state.measures
        words = [t.upper() for t in sorted(types)] + sorted(measures)
        if state.share or q.share:
            words.append("share of UK total")
        return Plan(" ".join(words), rewritten=True)
    if q.types and (state.types or state.measures) and not q.measures:
        words = [t.upper() for t in sorted(q.types)] + sorted(state.measures)
        return Plan(" ".join(words), rewritten=True)
    short_and = bool(re.match(r"(?i)\s*(and|what about|how about|and what about|what of)\b",
                              q.text)) and len(q.key) <= 2
    if (not own_confident or short_and) and base and state.labels:
        return Plan(f"{q.text} {state.labels[0]}", "same", base, rewritten=True)
    if not own_confident and state.section:
        return Plan(f"{q.text} {state.section}", "same", base, rewritten=True)
    return Plan(q.text)


#: Words that only say *how* to look at the last figure, not *which* figure.
_MOVE_WORDS = frozenset("share percentage percent proportion uk total national nationally compare "
                        "comparison source come data figure that this it".split())


def next_state(state: State, q: Question, metric_rows: list[dict], section: str,
               kind: str) -> State:
    """The state after answering ``q`` with ``metric_rows``."""
    if kind in ("empty", "error"):
        return state
    ids = tuple(r["metric_id"] for r in metric_rows) or state.metric_ids
    label_text = " ".join(r["label"] for r in metric_rows)
    types = frozenset(t for t in ("fdi", "ddi") if re.search(rf"\b{t}\b", label_text.lower()))
    measures = frozenset(m for m in ("capex", "jobs", "projects")
                         if re.search(rf"\b{m}\b", label_text.lower()))
    if not metric_rows:
        types, measures = state.types, state.measures
    share = any(r["unit"] == "percent" for r in metric_rows) if metric_rows else state.share
    labels = tuple(r["label"] for r in metric_rows) or state.labels
    return replace(state, metric_ids=ids if kind != "not_found" else state.metric_ids,
                   labels=labels if kind != "not_found" else state.labels,
                   section=section or state.section, types=types or q.types,
                   measures=measures or q.measures, share=share, kind=kind,
                   question=q.text, turns=state.turns + 1)


class Conversation:
    """A multi-turn conversation: ``ask`` answers in the light of earlier turns."""

    def __init__(self, engine):
        self.engine = engine
        self.state = State()
        self.history: list = []  # (question, Answer)
        self._lock = threading.Lock()

    def ask(self, question: str):
        """Answer ``question`` (any input is accepted; nothing raises but a broken index)."""
        with self._lock:
            answer, self.state = self.engine.answer(question, self.state)
            self.history.append((question, answer))
            return answer

    def reset(self) -> None:
        with self._lock:
            self.state = State()
            self.history.clear()
