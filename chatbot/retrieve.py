"""Retrieve: rank chunks for a question — dense (Chroma) + BM25, fused by reciprocal rank.

In: chunks, an optional dense searcher (query embedder + vector store). Out: ``Hit`` lists.
Exact tokens of the question that people type to pin a figure — numbers and year ranges
("2017-21"), acronyms ("FDI"), capitalised names ("Innovate UK") — add a boost to chunks that
contain them. This module ranks; it does not write answers.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from chatbot.records import Chunk, Hit

RRF_K = 60
#: Weight of one exact-token match, in units of a first-place RRF vote.
BOOST = 0.5
DENSE_FETCH = 20
STOPWORDS = frozenset(
    "a an and are as at be been by can could did do does for from had has have how i if in "
    "into is it its me much many my no not of on or our so such than that the their them "
    "there these they this those to tell us was we were what when where which who why will "
    "with would you your about any there's what's whats give show up make made also just".split()
)
_TOKEN_RE = re.compile(r"[a-z0-9£$]+(?:[.,/][0-9]+)*%?")


def stem(word: str) -> str:
    """A light suffix stemmer: 'companies'→'company', 'businesses'→'business', 'focuses'→'focus'."""
    if len(word) <= 3 or word[-1].isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes", "uses")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("s"):
        return word[:-1]
    if word.endswith("ing") and len(word) > 5:
        return word[:-3]
    if word.endswith("ed") and len(word) > 4:
        return word[:-2]
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed BM25 tokens; numbers keep their separators removed."""
    out = []
    for t in _TOKEN_RE.findall(text.lower().replace("-", " ")):
        t = t.replace(",", "") if re.fullmatch(r"[£$]?\d[\d,]*(\.\d+)?[m%]?", t) else t
        if t not in STOPWORDS:
            out.append(stem(t))
    return out


def exact_terms(question: str) -> list[str]:
    """Terms worth an exact-match boost: numbers, year ranges, acronyms, capitalised names."""
    terms: list[str] = []
    terms += re.findall(r"\b(?:19|20)\d{2}\s*[-–]\s*\d{2,4}\b", question)
    terms += [m for m in re.findall(r"[£$]?\d[\d,]*(?:\.\d+)?[m%]?", question) if len(m) > 1]
    terms += re.findall(r"\b[A-Z]{2,5}s?\b", question)
    terms += re.findall(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z][a-z]+|UK|NHS))+\b", question)
    return list(dict.fromkeys(t.rstrip("s") if t.isupper() is False and t[:-1].isupper() else t
                              for t in terms))


class BM25Index:
    """BM25 (Okapi) over chunk texts, built once."""

    def __init__(self, chunks: Sequence[Chunk]):
        from rank_bm25 import BM25Okapi

        self.chunks = list(chunks)
        self.bm25 = BM25Okapi([tokens(c.text) for c in self.chunks])

    def rank(self, question: str, n: int) -> list[tuple[int, float]]:
        q = tokens(question)
        if not q:
            return []
        scores = self.bm25.get_scores(q)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [(i, float(scores[i])) for i in order[:n] if scores[i] > 0]


class DenseSearcher:
    """Query embedder + vector store, with a per-process LRU cache of query vectors."""

    def __init__(self, embed: Callable[[list[str]], list[list[float]]], store, cache_size: int = 512):
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
                 dense: DenseSearcher | Callable[[], DenseSearcher | None] | None = None):
        self.chunks = list(chunks)
        self.by_id = {c.chunk_id: c for c in self.chunks}
        self.pos = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.bm25 = BM25Index(self.chunks)
        self._dense = dense

    @property
    def dense(self) -> DenseSearcher | None:
        d = self._dense
        if d is not None and not isinstance(d, DenseSearcher):
            d = d()
        return d

    def search(self, question: str, k: int = 5, mode: str = "hybrid",
               kinds: set[str] | None = None) -> list[Hit]:
        """Top ``k`` chunks. ``mode``: hybrid | dense | bm25."""
        n = max(DENSE_FETCH, k * 4)
        votes: dict[int, float] = {}
        dense_rank: dict[int, int] = {}
        bm25_rank: dict[int, int] = {}
        if mode in ("hybrid", "bm25"):
            for r, (i, _s) in enumerate(self.bm25.rank(question, n), 1):
                bm25_rank[i] = r
                votes[i] = votes.get(i, 0.0) + 1.0 / (RRF_K + r)
        if mode in ("hybrid", "dense"):
            searcher = self.dense
            if searcher is not None:
                for r, (cid, _d) in enumerate(searcher.rank(question, n), 1):
                    i = self.pos.get(cid)
                    if i is None:
                        continue
                    dense_rank[i] = r
                    votes[i] = votes.get(i, 0.0) + 1.0 / (RRF_K + r)
        if mode == "hybrid":
            terms = exact_terms(question)
            if terms:
                for i in list(votes):
                    text = self.chunks[i].text
                    hits = sum(1 for t in terms if _contains(text, t))
                    votes[i] += hits * BOOST / (RRF_K + 1)
        ranked = sorted(votes, key=lambda i: (-votes[i], i))
        if kinds:
            ranked = [i for i in ranked if self.chunks[i].kind in kinds]
        return [Hit(self.chunks[i], round(votes[i], 6), r, dense_rank.get(i), bm25_rank.get(i))
                for r, i in enumerate(ranked[:k], 1)]


def _contains(text: str, term: str) -> bool:
    if re.fullmatch(r"(?:19|20)\d{2}\s*[-–]\s*\d{2,4}", term):
        a, b = re.split(r"\s*[-–]\s*", term)
        return bool(re.search(rf"{a}\s*[-–]\s*(?:20)?{b[-2:]}\b", text))
    if any(ch.isdigit() for ch in term):
        return term.replace(",", "") in text.replace(",", "")
    return re.search(rf"\b{re.escape(term)}", text) is not None
