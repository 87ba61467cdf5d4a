"""Carry: what a conversation remembers, and how a follow-up borrows from it.

In: this turn's ``Frame`` and the conversation's ``State``. Out: the frame with what it left
out filled in from earlier turns, and the ``Context`` it refers to (the figures and list items
of the last answers). "And domestic?" keeps the last measure and swaps the modifier; "UK
share?" keeps the last measure and modifier; "source?", "per round?", "combined w/ FDI?",
"is that right?" work on the last figures; "which of those …" on the last list. One
``Conversation`` per user; no globals.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from chatbot.frame import Frame
from chatbot.tuning import FOLLOW_UP_WORDS, MEMORY, OWN_OP, REFERS_WITHIN, SHORT_CLAUSE

#: Ops that act on the last figures when the question names none of its own.
ON_LAST = ("provenance", "derive", "verify", "compare", "explain")


@dataclass(frozen=True)
class Turn:
    frame: Frame
    op: str
    figures: tuple[str, ...] = ()  # metric ids answered
    items: tuple[str, ...] = ()  # list items shown
    answered: bool = True
    measures: frozenset[str] = frozenset()  # of the figure answered (not of every word asked)
    modifiers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class State:
    turns: tuple[Turn, ...] = ()

    def add(self, turn: Turn) -> State:
        return State((self.turns + (turn,))[-MEMORY:])


@dataclass(frozen=True)
class Context:
    """What this turn refers to from earlier ones."""

    figures: tuple[str, ...] = ()  # the last answered figures, when the question leans on them
    items: tuple[str, ...] = ()  # the last list shown
    followup: bool = False


def carry(f: Frame, state: State, exclusive, fits=None) -> tuple[Frame, Context]:
    """Fill what ``f`` leaves out from earlier turns; say what it refers to. ``exclusive(a, b)``
    says whether two modifiers are rivals (FDI and DDI); ``fits(measures, modifiers)`` whether
    the snapshot has a figure of those measures with each of those modifiers."""
    answered = [t for t in state.turns if t.answered]
    listed = next((t for t in reversed(answered) if t.items), None)
    items = listed.items if listed else ()
    # nothing to narrow, or "which of the 20 universities …" after a list of recommendations
    anew = not answered or bool(f.measures) and not f.refers and not (
        listed and f.measures & listed.frame.measures)
    if f.op == "filter" and anew:
        f = replace(f, op="list")
    if f.op in ("chat", "out_of_scope", "injection") or not state.turns:
        return f, Context()
    if f.op == "filter" or (items and f.refers and not f.measures and f.op in ("explain", "list")):
        figures = next((t.figures for t in reversed(answered) if t.figures), ())
        return replace(f, op="filter"), Context(figures=() if items else figures, items=items,
                                                followup=True)
    last = next((t for t in reversed(answered) if t.figures or t.frame.measures), None)
    if last is None:
        return f, Context(items=items)
    if "elaborate" in f.content and not f.measures and len(f.tokens) <= 4 and answered[-1:] and \
            answered[-1].figures:  # "tell me more" about the figure just given
        return replace(f, op="more"), Context(figures=answered[-1].figures, followup=True)
    leans = f.elliptical or (not f.measures and f.op in ON_LAST and len(f.tokens) <= FOLLOW_UP_WORDS) or \
        (f.refers and len(f.tokens) <= REFERS_WITHIN) or \
        (len(f.tokens) <= SHORT_CLAUSE and bool(f.derive or f.stats) and f.op in ON_LAST + ("fallback",))
    alone = f.confidence >= OWN_OP and not f.refers and (  # "What is FDI?" names its own term,
        f.op == "define" and bool(f.acronyms) or f.op == "overview" and bool(f.content))  # "sum up talent"
    if not leans or alone:
        return f, Context(items=items)
    prev = last.frame
    modifiers = set(last.modifiers if last.figures else prev.modifiers)
    for m in f.modifiers:  # a new modifier replaces its rival ("and DDI?" after FDI)
        modifiers = {x for x in modifiers if not exclusive(x, m) or x in f.modifiers} | {m}
    before = last.measures if last.figures else prev.measures
    # "and per project?" divides the last figure: its measure stays, the new one is the divisor
    measures = f.measures | before if "per_unit" in f.derive else f.measures or before
    if fits is not None and f.modifiers and not f.measures and not fits(measures, frozenset(modifiers)):
        return f, Context(items=items)  # "compare FDI and DDI" after the salary: a new question
    stats = f.stats or (prev.stats if f.op not in ("provenance", "derive") else f.stats)
    swapped = frozenset(modifiers) != prev.modifiers or bool(f.stats and f.stats != prev.stats) \
        or bool(f.measures and f.measures != prev.measures)
    own_op = f.op in ON_LAST + ("define", "list") and f.confidence >= OWN_OP
    op = f.op if own_op else prev.op if prev.op in ("lookup", "derive", "compare", "list", "explain") \
        else "lookup"
    filled = replace(f, measures=measures,
                     modifiers=frozenset(modifiers),
                     stats=frozenset(stats), elliptical=False, op=op,
                     text=f"{f.text} ({prev.text})")
    if own_op and not swapped:
        return filled, Context(figures=last.figures, items=items, followup=True)
    return filled, Context(items=items, followup=True)


class Conversation:
    """A multi-turn conversation: ``ask`` answers in the light of earlier turns."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.state = State()
        self.history: list = []  # (question, Answer)
        self._lock = threading.Lock()

    def ask(self, question: str):
        """Answer ``question`` (any input is accepted; nothing raises but a broken index)."""
        with self._lock:
            answer, self.state = self.engine.answer(question, self.state)
            self.history.append((question, answer))
            del self.history[:-MEMORY * 8]
            return answer

    def reset(self) -> None:
        with self._lock:
            self.state = State()
            self.history.clear()
