"""Retrieve: rank chunks for a question — dense (Chroma) + BM25, fused by reciprocal rank.

In: chunks, an optional dense searcher (query embedder + vector store). Out: ``Hit`` lists.
Exact tokens of the question that people type to pin a figure — numbers and year ranges
("2017-21", "between 2017 and 2021"), acronyms ("FDI"), capitalised names ("Innovate UK") — add
a boost to chunks that contain them, worth less the more chunks share the term ("UK"). BM25
reads hyphenated compounds both ways and a few interchangeable words ("firms", "businesses")
as one. This module ranks; it does not write answers.

With ``fallback=True`` a hybrid search whose dense half fails (a Chroma server down or too slow,
an index that cannot be opened) returns the BM25 ranking and leaves a reader-facing notice,
collected per thread with ``take_notices()``; the details go to the log. Every cache here is
bounded (``QUERY_CACHE_SIZE``, ``BOOST_CACHE_SIZE``).
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from chatbot.errors import IndexStoreError
from chatbot.records import Chunk, Hit
from chatbot.text import STOPWORDS, YearRange, acronyms, is_year, names, stem, year_range_matches
from chatbot.tuning import BM25_WEIGHT, BOOST, DENSE_FETCH, DENSE_WEIGHT, RRF_K

log = logging.getLogger("chatbot.retrieve")

#: Query vectors kept per process (LRU) and exact-term weights kept before starting afresh.
QUERY_CACHE_SIZE = 512
BOOST_CACHE_SIZE = 4096
#: What a reader is told when keyword search stood in for the semantic index.
KEYWORD_ONLY_NOTICE = ("The semantic search index is not available right now, so this answer "
                       "was found by keyword search only.")
#: Words people use interchangeably for the same thing in a cluster snapshot (stemmed forms);
#: BM25 reads each group as its first word, so "firms" finds "businesses" and "wage" "salary".
SYNONYMS = (
    ("business", "company", "firm", "enterprise"),
    ("employee", "job", "staff", "worker", "workforce"),
    ("salary", "wage", "pay", "earning"),
    ("chart", "graph", "map"),
)
_CANONICAL = {word: group[0] for group in SYNONYMS for word in group}
_POSSESSIVE_RE = re.compile(r"['’]s\b")
_TOKEN_RE = re.compile(r"[a-z0-9£$]+(?:[.,/][0-9]+)*%?")
_COMPOUND_RE = re.compile(r"\b[a-z]+(?:-[a-z]+)+\b")
#: A number as people type it to pin a figure ("5,552", "£1.2m", "27.2%", "18/19").
_NUMBER_RE = re.compile(r"[£$]?\d[\d,]*(?:[./]\d+)?[m%]?")


def _ranges(text: str) -> list[YearRange]:
    """The year ranges of ``text`` a reader may type for one another: dashed ones ("2017-21")
    first, then spoken ones ("between 2017 and 2021"); a slash is a school year, not a range."""
    found = [r for r in year_range_matches(text) if r.sep != "/"]
    return sorted(found, key=lambda r: not r.dashed)


def year_ranges(text: str) -> list[tuple[int, int]]:
    """Year ranges written "2017-21", "2017–2021", "between 2017 and 2021" or "2017 to 2021"."""
    return [(r.first, r.last) for r in _ranges(text)]


def _rewrite(text: str, ranges: list[YearRange], form: Callable[[YearRange], str]) -> str:
    """``text`` with each of ``ranges`` (from ``year_range_matches(text)``) written ``form(r)``."""
    out, pos = [], 0
    for r in sorted(ranges, key=lambda r: r.start):
        out += [text[pos:r.start], form(r)]
        pos = r.end
    return "".join(out) + text[pos:]


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed BM25 tokens.

    Punctuation splits words ("spin-outs" → "spin", "out") and a hyphenated compound also
    yields its joined form ("spinout"), so either spelling matches the other. Thousands
    separators are dropped ("5,552" → "5552") and abbreviated year ranges are written out
    ("2017-21" → "2017", "2021"), so a range matches however it is written. Possessive "'s" is
    dropped and words in one ``SYNONYMS`` group become the same token.
    """
    low = _POSSESSIVE_RE.sub("", text.lower())
    low = _rewrite(low, [r for r in year_range_matches(low) if r.dashed], lambda r: f"{r.first} {r.last}")
    joined = [c.replace("-", "") for c in _COMPOUND_RE.findall(low)]
    out = []
    for t in _TOKEN_RE.findall(low.replace("-", " ")) + joined:
        t = t.replace(",", "") if _NUMBER_RE.fullmatch(t) else t
        if t not in STOPWORDS:
            t = stem(t)
            out.append(_CANONICAL.get(t, t))
    return out


def exact_terms(question: str) -> list[str]:
    """Terms worth an exact-match boost: numbers, year ranges, acronyms, capitalised names.

    Year ranges come back normalised ("2017-2021") whichever way they were written, and the
    years inside a range are not repeated as separate numbers.
    """
    ranges = _ranges(question)
    terms = [f"{r.first}-{r.last}" for r in ranges]
    rest = _rewrite(question, ranges, lambda r: " ")
    terms += [m for m in _NUMBER_RE.findall(rest) if len(m) > 1]
    terms += acronyms(rest)
    terms += names(rest)
    return list(dict.fromkeys(t.rstrip("s") if t.isupper() is False and t[:-1].isupper() else t
                              for t in terms))


class BM25Index:
    """BM25 (Okapi) over chunk texts, built once."""

    def __init__(self, chunks: Sequence[Chunk]):
        from rank_bm25 import BM25Okapi

        self.chunks = list(chunks)
        self.bm25 = BM25Okapi([tokens(c.text) for c in self.chunks])
        # postings (chunk positions, term counts) per term: a question's score touches only the
        # chunks holding its words (rank_bm25's get_scores walks every chunk for every word)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, freqs in enumerate(self.bm25.doc_freqs):
            for term, tf in freqs.items():
                at, counts = postings.setdefault(term, ([], []))
                at.append(i)
                counts.append(tf)
        self._postings = {t: (np.array(a), np.array(c, dtype=float)) for t, (a, c) in postings.items()}
        self._norm = self.bm25.k1 * (1 - self.bm25.b + self.bm25.b * np.array(self.bm25.doc_len)
                                     / self.bm25.avgdl)

    def rank(self, question: str, n: int) -> list[tuple[int, float]]:
        """The same scores as ``BM25Okapi.get_scores``, computed over the postings."""
        q = tokens(question)
        if not q:
            return []
        k1 = self.bm25.k1
        scores = np.zeros(len(self.chunks))
        for term in q:
            idf = self.bm25.idf.get(term) or 0
            if not idf or term not in self._postings:
                continue
            at, tf = self._postings[term]
            scores[at] += idf * (tf * (k1 + 1) / (tf + self._norm[at]))
        hit = np.flatnonzero(scores > 0)
        order = sorted(hit.tolist(), key=lambda i: (-scores[i], i))
        return [(i, float(scores[i])) for i in order[:n]]


class DenseSearcher:
    """Query embedder + vector store, with a per-process LRU cache of query vectors."""

    def __init__(self, embed: Callable[[list[str]], list[list[float]]], store,
                 cache_size: int = QUERY_CACHE_SIZE):
        self.embed = embed
        self.store = store
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()
        self.cache_size = cache_size

    def vector(self, text: str) -> list[float]:
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        vec = self.embed([text])[0]
        with self._lock:
            self._cache[text] = vec
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return vec

    def clear_cache(self) -> None:
        """Forget cached query vectors (so a benchmark times the embedding too)."""
        with self._lock:
            self._cache.clear()

    def rank(self, question: str, n: int) -> list[tuple[str, float]]:
        return self.store.query(self.vector(question), n)


class Retriever:
    """Hybrid retrieval. ``dense`` may be a callable returning a ``DenseSearcher`` (lazy)."""

    def __init__(self, chunks: Sequence[Chunk],
                 dense: DenseSearcher | Callable[[], DenseSearcher | None] | None = None,
                 fallback: bool = False):
        self.fallback = fallback
        self._local = threading.local()  # notices of this thread's searches
        self._failing = False  # log a failure once, not at every question
        self.chunks = list(chunks)
        self.by_id = {c.chunk_id: c for c in self.chunks}
        self.pos = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.bm25 = BM25Index(self.chunks)
        self._dense = dense
        self._weights: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def dense(self) -> DenseSearcher | None:
        d = self._dense
        if d is not None and not isinstance(d, DenseSearcher):
            d = d()
        return d

    def boost_weight(self, term: str) -> float:
        """How much an exact match on ``term`` says: 1 for a term in one chunk, less the more
        chunks contain it ("UK" is in a third of them), 0 for a term in every chunk."""
        with self._lock:
            if term not in self._weights:
                if len(self._weights) >= BOOST_CACHE_SIZE:  # user terms are unbounded; cheap to redo
                    self._weights.clear()
                n = len(self.chunks)
                df = sum(1 for c in self.chunks if _contains(c.text, term))
                self._weights[term] = math.log(n / df) / math.log(n) if 0 < df and n > 1 else 0.0
            return self._weights[term]

    def search(self, question: str, k: int = 5, mode: str = "hybrid",
               kinds: set[str] | None = None) -> list[Hit]:
        """Top ``k`` chunks. ``mode``: hybrid | dense | bm25."""
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"unknown search mode {mode!r} (hybrid, dense or bm25)")
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        n = max(DENSE_FETCH, k * 4)
        votes: dict[int, float] = {}
        dense_rank: dict[int, int] = {}
        bm25_rank: dict[int, int] = {}
        sims: dict[int, float] = {}
        raw: dict[int, float] = {}
        if mode in ("hybrid", "bm25"):
            for r, (i, score) in enumerate(self.bm25.rank(question, n), 1):
                bm25_rank[i] = r
                raw[i] = score
                votes[i] = votes.get(i, 0.0) + BM25_WEIGHT / (RRF_K + r)
        if mode in ("hybrid", "dense"):
            for r, (cid, distance) in enumerate(self._dense_ranking(question, n, mode), 1):
                i = self.pos.get(cid)
                if i is None:
                    continue
                dense_rank[i] = r
                sims[i] = 1.0 - float(distance)
                votes[i] = votes.get(i, 0.0) + DENSE_WEIGHT / (RRF_K + r)
        if mode == "hybrid":
            for term in exact_terms(question):
                weight = self.boost_weight(term) * BOOST / (RRF_K + 1)
                if weight:
                    for i in votes:
                        if _contains(self.chunks[i].text, term):
                            votes[i] += weight
        ranked = sorted(votes, key=lambda i: (-votes[i], i))
        if kinds:
            ranked = [i for i in ranked if self.chunks[i].kind in kinds]
        return [Hit(self.chunks[i], round(votes[i], 6), r, dense_rank.get(i), bm25_rank.get(i),
                    sims.get(i), raw.get(i, 0.0))
                for r, i in enumerate(ranked[:k], 1)]


    def _dense_ranking(self, question: str, n: int, mode: str) -> list[tuple[str, float]]:
        """The dense ranking; with ``fallback``, a hybrid search survives a failed index."""
        try:
            searcher = self.dense
            ranked = searcher.rank(question, n) if searcher is not None else []
        except IndexStoreError as exc:
            if mode == "dense" or not self.fallback:
                raise
            if not self._failing:
                log.warning("keyword search only until the vector index is back: %s", exc)
            self._failing = True
            self._notices().append(KEYWORD_ONLY_NOTICE)
            return []
        if self._failing:
            log.warning("the vector index is back")
            self._failing = False
        return ranked

    def _notices(self) -> list[str]:
        if not hasattr(self._local, "notices"):
            self._local.notices = []
        return self._local.notices

    def take_notices(self) -> list[str]:
        """The notices this thread's searches left since the last call (each once)."""
        notices = list(dict.fromkeys(self._notices()))
        self._local.notices = []
        return notices


@functools.lru_cache(maxsize=BOOST_CACHE_SIZE * 4)
def _ranges_in(text: str) -> tuple:
    """The year ranges a chunk's text states (chunk texts are few and fixed: kept)."""
    return tuple(year_ranges(text))


def _contains(text: str, term: str) -> bool:
    """Does ``text`` hold ``term`` as written? Years also match a range that covers them."""
    first, dash, last = term.partition("-")
    if dash and is_year(first) and is_year(last):
        return (int(first), int(last)) in _ranges_in(text)
    if is_year(term):
        year = int(term)
        return (re.search(rf"(?<!\d){term}(?!\d)", text) is not None
                or any(a <= year <= b for a, b in _ranges_in(text)))
    if any(ch.isdigit() for ch in term):
        plain = term.replace(",", "")
        flat = text.replace(",", "")
        if plain not in flat:  # cheap test first: most chunks do not hold the term at all
            return False
        return re.search(rf"(?<![\d.]){re.escape(plain)}(?![\d])", flat) is not None
    if term not in text:
        return False
    return re.search(rf"\b{re.escape(term)}", text) is not None


def to_document(chunk: Chunk):
    """A chunk as a LangChain ``Document`` (page_content = the indexed text, metadata = the
    chunk's Chroma-safe metadata plus its verbatim quote)."""
    from langchain_core.documents import Document

    return Document(page_content=chunk.text, metadata=chunk.metadata() | {"quote": chunk.quote},
                    id=chunk.chunk_id)


def as_langchain_retriever(retriever: Retriever, k: int = 5, mode: str = "hybrid"):
    """The hybrid retriever behind LangChain's ``BaseRetriever`` interface, for chains that
    expect one: ``.invoke(question)`` returns ``Document``s with a ``score`` in metadata."""
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class SnapshotRetriever(BaseRetriever):
        """Hybrid (dense + BM25) retrieval over the snapshot's chunks."""

        def _get_relevant_documents(self, query: str, *,
                                    run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
            out = []
            for hit in retriever.search(query, k=k, mode=mode):
                doc = to_document(hit.chunk)
                doc.metadata["score"] = hit.score
                doc.metadata["rank"] = hit.rank
                out.append(doc)
            return out

    return SnapshotRetriever()
