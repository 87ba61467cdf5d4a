"""Frame: what one message asks, as the read stage found it — the value every later stage
reads (carry fills it from earlier turns, resolve looks it up, verdict and the planners act on
it). Frozen; built only by ``read``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatbot.text import Quantity

#: Measures that set the scene rather than name what is asked ("the cluster's businesses").
SETTING = frozenset({"businesses"})


@dataclass(frozen=True)
class Frame:
    """What one message asks."""

    text: str  # the asking clauses, joined
    op: str  # an intent without its "chat." prefix: lookup, derive, … or chat / fallback
    chat: str = ""  # greeting | thanks | help | about | bye when op == "chat"
    confidence: float = 0.0
    tokens: tuple[str, ...] = ()
    stems: tuple[str, ...] = ()
    measures: frozenset[str] = frozenset()
    modifiers: frozenset[str] = frozenset()
    stats: frozenset[str] = frozenset()
    derive: frozenset[str] = frozenset()
    breakdown: bool = False
    places: frozenset[str] = frozenset()
    numbers: tuple[Quantity, ...] = ()  # numbers stated as claims (years excluded)
    years: tuple[int, ...] = ()
    ranges: tuple[tuple[int, int], ...] = ()
    acronyms: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    content: tuple[str, ...] = ()  # stems that say what the question is about
    unknown: tuple[str, ...] = ()  # words neither the snapshot nor the vocabulary knows
    documents: tuple[str, ...] = ()
    elliptical: bool = False
    parts: tuple[Frame, ...] = ()  # sub-questions of one message
    aside: tuple[str, ...] = ()  # intents of the clauses set aside
    injected: bool = False
    direction: str = ""  # up | down: the way a claim says a figure goes
    joined: bool = False  # several things asked with "and" ("spinouts and accelerators")
    refers: bool = False  # points back to an earlier answer ("that", "what about …")
    conflict: bool = False  # says figures disagree ("I've seen different numbers")
    tabulate: bool = False  # asks for figures as a set ("the talent stats")
    excludes: bool = False  # sets something aside ("apart from Birmingham"): no claim about it
    set_aside: frozenset[str] = frozenset()  # measures and modifiers set aside ("not FE"): never the answer
    asked: str = ""  # the noun a "how many X" / "what is the X of" question asks for…
    asked_known: bool = True  # …and whether the snapshot or the vocabulary knows it
    compares: bool = False  # asks to compare ("how does that stack up against …")
    outside: bool = False  # asks about another edition, another time or the future
    first_modifier: str = ""  # the modifier named first: a claim's subject ("FDI … double DDI")
    lead: str = ""  # the measure named first (what a "jobs from … projects" question counts)
    compound: tuple[str, ...] = ()  # measures named side by side ("university spin-off companies")
    value_ask: bool = False  # asks for a number ("how many …", "what is the population of …")
    wh: bool = False  # opens with a question word (a claim then is a description, not a claim)
    questions: tuple[str, ...] = ()  # its parts asking what or how ("how many does london have")
    readable: bool = True  # most of its words are English the bot reads
    defining: bool = False  # asks what a term means in so many words ("stand for", "counts as")
    extreme: str = ""  # high | low: asks for the top or bottom of a set of figures
    currency: bool = False  # an amount of money is asked for in so many words (£, dollars)
    glossed: str = ""  # "French: how many businesses …": a message read word by word in English
    clauses: tuple[str, ...] = field(default=(), compare=False)
