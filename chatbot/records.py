"""The values that flow between stages: frozen dataclasses, no behaviour beyond views.

``Chunk`` (ingest → index), ``Hit`` (retrieve → answer), ``Citation`` and ``Answer``
(answer → every edge: CLI, app, eval harness).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of the snapshot with its exact character span."""

    chunk_id: str
    text: str  # what is embedded and searched (may add label/source context)
    quote: str  # the snapshot's own words (escapes undone)
    section: str
    kind: str  # prose | figure | footnote | list | table_row | chart
    source: str  # resolved data source, "" when the chunk states no figure
    start: int  # span in the raw corpus text: raw[start:end]
    end: int
    document: str = ""  # document title (several snapshots may be loaded)
    metric_ids: tuple[str, ...] = ()

    def metadata(self) -> dict:
        """Chroma-safe metadata (scalars only)."""
        return {
            "chunk_id": self.chunk_id,
            "section": self.section,
            "kind": self.kind,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "document": self.document,
            "metric_ids": ",".join(self.metric_ids),
        }


@dataclass(frozen=True)
class Hit:
    """A ranked chunk for a question."""

    chunk: Chunk
    score: float
    rank: int
    dense_rank: int | None = None
    bm25_rank: int | None = None
    dense_sim: float | None = None  # cosine similarity of the question and the chunk
    bm25: float = 0.0  # raw BM25 score


@dataclass(frozen=True)
class Citation:
    """Where a statement in an answer comes from: the snapshot's own words."""

    number: int
    source: str  # data source, e.g. "Data City 2023" ("" when the snapshot names none)
    section: str  # snapshot section, e.g. "Talent Ecosystem"
    quote: str  # verbatim words from the snapshot (escapes undone)
    metric_id: str | None = None
    chunk_id: str | None = None
    highlight: str | None = None  # the figure inside the quote, for the UI to emphasise
    document: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """What ``Conversation.ask`` returns."""

    text: str  # Markdown with numbered citation markers [1]
    answered: bool  # False when the snapshot does not hold the answer
    citations: list[Citation] = field(default_factory=list)
    kind: str = "prose"  # figure|figures|derived|conflict|verify|provenance|list|prose|not_found|empty
    question: str = ""
    metric_ids: list[str] = field(default_factory=list)
    calculations: list[str] = field(default_factory=list)  # e.g. "3,321 − 889 = 2,432"
    nearest: list[str] = field(default_factory=list)  # for not-found answers
    notices: list[str] = field(default_factory=list)  # e.g. "question cut at 2,000 characters"
    retrieved: list[str] = field(default_factory=list)  # chunk ids, best first (for eval)
    dropped: list[str] = field(default_factory=list)  # sentences the grounding check removed
    suggestions: list[str] = field(default_factory=list)  # follow-up questions it can answer

    def to_dict(self) -> dict:
        return asdict(self)
