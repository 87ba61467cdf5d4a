"""Baselines: answerers with no understanding, scored beside the engine on every set.

In: the chunks and metrics rows (and a retriever or the embedding model for two of them).
Out: conversation factories ``factory(item) -> conversation`` that ``evaluate`` can ask.

- ``DumpAll``: every figure and every chunk of the snapshot, with perfect refusals (it declines
  exactly the unanswerable items). A sound strict scorer gives it almost nothing.
- ``TopChunks``: the top five retrieved chunks concatenated, always answering.
- ``LangChainDense``: a plain LangChain RAG pipeline (dense top-5 over the same chunks in an
  in-memory Chroma, answer = the best chunk's quote), to show what the engine adds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from chatbot.errors import ChatbotError
from chatbot.evalsets import EvalItem
from chatbot.records import Answer, Chunk, Citation

TOP_K = 5


class Conversation(Protocol):
    def ask(self, question: str) -> Answer: ...


Factory = Callable[[EvalItem], Conversation]


def _cite_chunks(chunks: Sequence[Chunk]) -> list[Citation]:
    return [Citation(i, c.source, c.section, c.quote, chunk_id=c.chunk_id)
            for i, c in enumerate(chunks, start=1)]


class _Fixed:
    """A conversation that gives the same answer to every turn."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer

    def ask(self, question: str) -> Answer:
        return self._answer


class DumpAll:
    """Every figure and chunk, declining exactly the unanswerable items."""

    name = "dump every figure and chunk + perfect refusals"

    def __init__(self, chunks: Sequence[Chunk], rows: Sequence[dict]) -> None:
        lines = [f"- {r['label']}: {r['display']} [{i}]" for i, r in enumerate(rows, start=1)]
        lines += [f"{c.quote} [{len(rows) + i}]" for i, c in enumerate(chunks, start=1)]
        cites = [Citation(i, r["source"], r["section"], r["quote"], metric_id=r["metric_id"])
                 for i, r in enumerate(rows, start=1)]
        cites += [Citation(len(rows) + i, c.source, c.section, c.quote, chunk_id=c.chunk_id)
                  for i, c in enumerate(chunks, start=1)]
        self._text = "\n".join(lines)
        self._cites = cites

    def __call__(self, item: EvalItem) -> Conversation:
        if not item.answerable:
            return _Fixed(Answer("The snapshot doesn't say.", False, kind="not_found"))
        return _Fixed(Answer(self._text, True, list(self._cites), kind="dump"))


class TopChunks:
    """The top five chunks of a search, concatenated, always answering."""

    name = "top-5 chunks concatenated"

    def __init__(self, search: Callable[[str], Sequence[Chunk]]) -> None:
        self._search = search

    def __call__(self, item: EvalItem) -> Conversation:
        return self

    def ask(self, question: str) -> Answer:
        hits = list(self._search(question))[:TOP_K]
        text = "\n\n".join(f"{c.quote} [{i}]" for i, c in enumerate(hits, start=1))
        return Answer(text, True, _cite_chunks(hits), kind="chunks", question=question,
                      retrieved=[c.chunk_id for c in hits])


class LangChainDense:
    """A plain LangChain RAG baseline: dense top-5 over the same chunks, answer = best quote."""

    name = "plain LangChain dense RAG"

    def __init__(self, chunks: Sequence[Chunk], k: int = TOP_K) -> None:
        if not chunks:
            raise ChatbotError("baseline: no chunks to index; check the corpus path")
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        from chatbot.embeddings import embeddings_for_langchain

        self._chunks = list(chunks)
        self._k = k
        client = chromadb.EphemeralClient(
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True))
        # Ephemeral clients share one in-process store: a unique name keeps runs apart.
        self._store = Chroma(collection_name=f"baseline-{uuid.uuid4().hex}",
                             embedding_function=embeddings_for_langchain(), client=client)
        self._store.add_texts(
            [c.text for c in self._chunks],
            metadatas=[{"row": i, "chunk_id": c.chunk_id} for i, c in enumerate(self._chunks)],
            ids=[str(i) for i in range(len(self._chunks))])

    def __call__(self, item: EvalItem) -> Conversation:
        return self

    def search(self, question: str) -> list[Chunk]:
        docs = self._store.similarity_search(question, k=self._k)
        return [self._chunks[int(d.metadata["row"])] for d in docs]

    def ask(self, question: str) -> Answer:
        hits = self.search(question)
        if not hits:
            return Answer(text="", answered=True, question=question)
        best = hits[0]
        return Answer(text=best.quote, answered=True, citations=_cite_chunks([best]),
                      question=question, retrieved=[c.chunk_id for c in hits])
