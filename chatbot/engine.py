"""Engine: wires the stages together — build (corpus → metrics table → index) and ``Chatbot``.

``Chatbot(settings)`` parses the corpus, builds the metrics table in memory (writing
``metrics.csv`` when it differs), and opens or rebuilds the vector index in a background
thread so that table answers never wait for the embedding model. Questions that need dense
retrieval wait for it, so the same question always gets the same answer.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chatbot.chunking import chunk_snapshot
from chatbot.errors import ChatbotError, CorpusError, ServerUnavailableError
from chatbot.ingest import Snapshot, load_snapshot
from chatbot.metrics import build_table, doc_prefixes, read_table, write_table
from chatbot.records import Chunk
from chatbot.settings import Settings

log = logging.getLogger("chatbot")


@dataclass
class Corpus:
    """Everything derived from the corpus files in memory: snapshots, table, chunks."""

    snapshots: list[Snapshot]
    table: object  # pandas.DataFrame
    chunks: list[Chunk]
    csv_text: str

    @property
    def metrics_sha(self) -> str:
        return hashlib.sha256(self.csv_text.encode()).hexdigest()


def load_corpus(settings: Settings) -> Corpus:
    """Parse every corpus file and derive the metrics table and chunks (no I/O but reads)."""
    if not settings.corpus_paths:
        raise CorpusError("no corpus files configured (set CHATBOT_CORPUS)")
    snapshots = [load_snapshot(Path(p)) for p in settings.corpus_paths]
    titles = Counter(s.title for s in snapshots)
    for s in snapshots:  # documents need distinct names once there are several
        if titles[s.title] > 1:
            s.title = f"{s.title} ({Path(s.path).stem})"
    table = build_table(snapshots, settings.overrides_path)
    multi = len(snapshots) > 1
    prefixes = doc_prefixes([s.title for s in snapshots])
    chunks: list[Chunk] = []
    for s in snapshots:
        starts: dict[int, list[str]] = {}
        for mid, st, doc in zip(table["metric_id"], table["start"], table["document"], strict=True):
            if doc == s.title:
                starts.setdefault(int(st), []).append(mid)
        chunks.extend(chunk_snapshot(s, starts, prefix=f"{prefixes[s.title]}/" if multi else ""))
    buf = io.StringIO()
    table.to_csv(buf, index=False)
    return Corpus(snapshots, table, chunks, buf.getvalue())


def sync_metrics(settings: Settings, corpus: Corpus) -> bool:
    """Write ``metrics.csv`` if it is missing or differs; True when written."""
    path = Path(settings.metrics_path)
    try:
        if path.read_text(encoding="utf-8") == corpus.csv_text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    write_table(corpus.table, path)
    return True


def load_metrics(settings: Settings):
    """The metrics table, rebuilt from the corpus when the file is missing."""
    if not Path(settings.metrics_path).exists():
        sync_metrics(settings, load_corpus(settings))
    return read_table(settings.metrics_path)


def build(settings: Settings, progress: Callable[[str], None] = print, force: bool = False) -> str:
    """``chatbot build``: corpus → metrics.csv → index. Returns a printable summary.

    Everything is parsed and checked before anything is written, so a bad corpus leaves the
    previous metrics table and index untouched.
    """
    from chatbot.index import ensure_index

    t0 = time.perf_counter()
    progress(f"parsing {', '.join(str(p) for p in settings.corpus_paths)}")
    corpus = load_corpus(settings)
    progress(f"metrics table: {len(corpus.table)} figures")
    written = sync_metrics(settings, corpus)
    progress(f"{'wrote' if written else 'unchanged'} {settings.metrics_path}")
    _store, what = ensure_index(settings, corpus.chunks, corpus.metrics_sha, progress, force=force)
    kinds = Counter(c.kind for c in corpus.chunks)
    took = time.perf_counter() - t0
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    return (f"{len(corpus.table)} metrics, {len(corpus.chunks)} chunks ({by_kind}); "
            f"index {what}; {took:.1f} s")


class Chatbot:
    """The public entry point: ``Chatbot().conversation().ask("…")``."""

    def __init__(self, settings: Settings | None = None, chat_model=None,
                 progress: Callable[[str], None] | None = None):
        self.settings = settings or Settings.from_env()
        self.progress = progress or (lambda msg: log.info(msg))
        self.corpus = load_corpus(self.settings)
        try:
            sync_metrics(self.settings, self.corpus)
        except OSError as exc:  # a read-only checkout still answers
            log.warning("could not write %s: %s", self.settings.metrics_path, exc)
        if chat_model is None and self.settings.llm:  # optional: phrase answers with a model
            from chatbot.generate import make_chat_model

            chat_model = make_chat_model(self.settings.llm, self.settings.llm_base_url)
        self.chat_model = chat_model
        self._dense = None
        self._dense_error: ChatbotError | None = None
        self._embedder = None
        self._ready = threading.Event()
        self._connect_lock = threading.Lock()
        from chatbot.answer import Engine
        from chatbot.retrieve import Retriever

        self.retriever = Retriever(self.corpus.chunks, dense=self._get_dense)
        self.engine = Engine(self.corpus.table, self.retriever, self.corpus.chunks,
                             chat_model=chat_model, settings=self.settings,
                             documents=[s.title for s in self.corpus.snapshots])
        if self.settings.dense:
            threading.Thread(target=self._load_dense, name="chatbot-dense", daemon=True).start()
        else:
            self._ready.set()

    def _load_dense(self) -> None:
        try:
            self._connect()
        finally:
            self._ready.set()

    def _connect(self) -> None:
        """Open (or rebuild) the vector index; a failure is kept in ``_dense_error``."""
        try:
            from chatbot.index import QueryEmbedder, ensure_index
            from chatbot.retrieve import DenseSearcher

            store, _what = ensure_index(self.settings, self.corpus.chunks, self.corpus.metrics_sha,
                                        self.progress)
            if self._embedder is None:
                self._embedder = QueryEmbedder()
            self._dense = DenseSearcher(self._embedder.embed, store)
            self._dense_error = None  # after _dense: a reader that sees no error sees the store
        except ChatbotError as exc:
            self._dense_error = exc
            log.error("dense retrieval unavailable: %s", exc)
        except Exception as exc:  # never let a background failure pass silently
            self._dense_error = ChatbotError(f"dense retrieval unavailable ({exc})")
            log.exception("dense retrieval failed")

    def _get_dense(self):
        """The dense searcher; raises the load error. A Chroma server that did not answer is
        tried again on each call (one caller at a time), so a restarted server is picked up
        without restarting the app."""
        self._ready.wait()
        failed = self._dense_error
        if isinstance(failed, ServerUnavailableError):
            with self._connect_lock:
                if self._dense_error is failed:  # nobody retried while we waited for the lock
                    self._connect()
            failed = self._dense_error
        if failed is not None:
            raise failed
        return self._dense

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until dense retrieval is loaded (or failed); True when it is usable."""
        self._ready.wait(timeout)
        return self._dense is not None

    def search(self, question: str, k: int = 5, mode: str = "hybrid"):
        return self.retriever.search(question, k=k, mode=mode)

    def conversation(self):
        """A fresh multi-turn conversation with its own state."""
        from chatbot.conversation import Conversation

        return Conversation(self.engine)
