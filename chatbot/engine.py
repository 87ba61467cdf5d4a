"""Engine: wires the stages together — build (corpus → metrics table → index) and ``Chatbot``.

``Chatbot(settings)`` parses the corpus (checked for truncation, ``integrity``), builds the
metrics table in memory (writing ``metrics.csv`` when it differs), and opens or rebuilds the
vector index in a background thread so that table answers never wait for the embedding model.
Questions that need dense retrieval wait for it, so the same question always gets the same
answer; when the index cannot be used (a Chroma server down or too slow, an index that cannot
be read) they are answered from the table and keyword search, with a notice.

The background loader is joined when the process exits: a thread still inside native code
(onnxruntime, Chroma) when the interpreter shuts down aborts the process (exit status 134).
Conversations bound their input (``inputs.clean_question``) before anything reads or keeps it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from chatbot.chunking import chunk_snapshot
from chatbot.errors import (
    ChatbotError,
    ConfigError,
    CorpusError,
    IndexBusyError,
    IndexStoreError,
    ServerUnavailableError,
)
from chatbot.ingest import Snapshot, load_snapshot
from chatbot.inputs import clean_question, search_depth
from chatbot.integrity import check_against_manifest, check_complete, check_metrics_file, corpus_record
from chatbot.metrics import build_table, doc_prefixes, read_table, write_table
from chatbot.records import Chunk
from chatbot.settings import Settings

log = logging.getLogger("chatbot")

#: How long the exiting interpreter waits for a background index loader to stop.
EXIT_WAIT_S = 120.0
#: Background loaders still running (joined at exit).
_LOADERS: set[threading.Thread] = set()
_loaders_lock = threading.Lock()


def _stop_loaders() -> None:
    """At exit: ask index work to stop at its next checkpoint, then wait for the loaders."""
    from chatbot.index import EXITING

    EXITING.set()
    with _loaders_lock:
        loaders = list(_LOADERS)
    for thread in loaders:
        thread.join(EXIT_WAIT_S)
        if thread.is_alive():
            log.warning("the index loader did not stop within %.0f s", EXIT_WAIT_S)


# Runs when the interpreter starts shutting down, before ``atexit`` handlers (chromadb registers
# its own) and before non-daemon threads are joined.
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_stop_loaders)
else:  # pragma: no cover - other Pythons
    import atexit

    atexit.register(_stop_loaders)


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
    for snap in snapshots:
        check_complete(snap)
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
    if path.is_dir():
        raise ConfigError(f"CHATBOT_METRICS points at a folder ({path}); give a file path such as "
                          "corpus/metrics.csv")
    try:
        if path.read_text(encoding="utf-8") == corpus.csv_text:
            return False
        log.warning("%s differed from the table the corpus gives; writing it again", path)
    except (OSError, UnicodeDecodeError):
        pass
    try:
        write_table(corpus.table, path)
    except OSError as exc:
        raise ConfigError(f"could not write {path} ({exc.strerror or exc}); free some space or point "
                          "CHATBOT_METRICS at a writable file") from exc
    return True


def load_metrics(settings: Settings):
    """The metrics table of ``metrics.csv``, written from the corpus when missing; a file that
    differs from what the corpus gives (cut short, edited by hand) is a ``CorpusError``."""
    corpus = load_corpus(settings)
    from chatbot.index import read_manifest

    check_against_manifest(corpus, read_manifest(settings.index_dir))
    if not Path(settings.metrics_path).exists():
        sync_metrics(settings, corpus)
    check_metrics_file(settings.metrics_path, corpus)
    return read_table(settings.metrics_path)


#: The intent an eval category asks for (for the classifier's confusion table).
INTENT_OF = {"figure": "lookup", "derived": "derive", "verify": "verify", "false_premise": "verify",
             "provenance": "provenance", "list": "list", "filter": "filter", "prose": "explain",
             "overview": "overview", "define": "define", "chat": "chat"}
INTENT_MODEL = "intents.npz"


def load_understanding(corpus: Corpus):
    """The understanding data, with the corpus's words and English for typo correction."""
    from chatbot.embeddings import english_words
    from chatbot.text import words
    from chatbot.understanding import Understanding

    return Understanding((w for s in corpus.snapshots for w in words(s.raw)), english_words())


def intent_model(settings: Settings, understanding):
    """The intent classifier trained on the understanding data (saved beside the index)."""
    from chatbot.classify import load_or_train

    # examples read the way questions are read (shorthand, contractions, spelling mended), so
    # "I'm" and "I am" are one thing to the classifier
    examples = {intent: [" ".join(understanding.tokens(e)) or e for e in texts]
                for intent, texts in understanding.intents.items()}
    return load_or_train(examples, Path(settings.index_dir) / INTENT_MODEL)


def build(settings: Settings, progress: Callable[[str], None] = print, force: bool = False,
          accept_corpus: bool = False) -> str:
    """``chatbot build``: corpus → metrics.csv → index. Returns a printable summary.

    Everything is parsed and checked before anything is written, so a bad corpus leaves the
    previous metrics table and index untouched. A corpus that lost sections or figures since the
    last build is refused as truncated unless ``accept_corpus``.
    """
    from chatbot.index import ensure_index, read_manifest

    t0 = time.perf_counter()
    progress(f"parsing {', '.join(str(p) for p in settings.corpus_paths)}")
    corpus = load_corpus(settings)
    if not accept_corpus:
        check_against_manifest(corpus, read_manifest(settings.index_dir))
    progress(f"metrics table: {len(corpus.table)} figures")
    written = sync_metrics(settings, corpus)
    progress(f"{'wrote' if written else 'unchanged'} {settings.metrics_path}")
    _store, what = ensure_index(settings, corpus.chunks, corpus.metrics_sha, progress, force=force,
                                record=corpus_record(corpus))
    model = intent_model(settings, load_understanding(corpus))
    progress(f"intent model: {len(model.classes)} intents, {len(model.vocab)} features")
    kinds = Counter(c.kind for c in corpus.chunks)
    took = time.perf_counter() - t0
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    return (f"{len(corpus.table)} metrics, {len(corpus.chunks)} chunks ({by_kind}); "
            f"index {what}; {took:.1f} s")



class Chatbot:
    """The public entry point: ``Chatbot().conversation().ask("…")``."""

    def __init__(self, settings: Settings | None = None, chat_model=None,
                 progress: Callable[[str], None] | None = None):
        from chatbot.index import read_manifest

        self.settings = settings or Settings.from_env()
        self.progress = progress or (lambda msg: log.info(msg))
        self.corpus = load_corpus(self.settings)
        check_against_manifest(self.corpus, read_manifest(self.settings.index_dir))
        try:
            sync_metrics(self.settings, self.corpus)
        except ChatbotError as exc:  # a read-only checkout still answers
            log.warning("%s", exc)
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

        self.retriever = Retriever(self.corpus.chunks, dense=self._get_dense, fallback=True)
        understanding = load_understanding(self.corpus)
        model = intent_model(self.settings, understanding)
        self.engine = Engine(self.corpus, self.retriever, model=model, understanding=understanding,
                             max_chars=self.settings.max_question_chars, chat_model=chat_model)
        if self.settings.dense:
            loader = threading.Thread(target=self._load_dense, name="chatbot-dense", daemon=True)
            with _loaders_lock:
                _LOADERS.add(loader)
            loader.start()
        else:
            self._ready.set()

    def _load_dense(self) -> None:
        try:
            self._connect()
        finally:
            self._ready.set()
            with _loaders_lock:
                _LOADERS.discard(threading.current_thread())

    def _connect(self) -> None:
        """Open (or rebuild) the vector index; a failure is kept in ``_dense_error``."""
        from chatbot.index import Interrupted, QueryEmbedder, checkpoint, ensure_index
        from chatbot.retrieve import DenseSearcher

        try:
            store, _what = ensure_index(self.settings, self.corpus.chunks, self.corpus.metrics_sha,
                                        self.progress, record=corpus_record(self.corpus))
            checkpoint()  # do not start onnxruntime in a process that is exiting
            if self._embedder is None:
                self._embedder = QueryEmbedder()
            self._dense = DenseSearcher(self._embedder.embed, store)
            self._dense_error = None  # after _dense: a reader that sees no error sees the store
        except Interrupted as exc:  # the process is exiting: nothing to report
            self._dense_error = exc
        except ChatbotError as exc:
            if str(exc) != str(self._dense_error):  # a retry that fails alike says nothing new
                log.error("dense retrieval unavailable: %s", exc)
            self._dense_error = exc
        except Exception as exc:  # never let a background failure pass silently
            self._dense_error = IndexStoreError(f"dense retrieval unavailable ({type(exc).__name__}: "
                                                f"{exc})")
            log.exception("dense retrieval failed")

    def _get_dense(self):
        """The dense searcher; raises the load error. A Chroma server that did not answer, or an
        index locked by another process, is tried again on each call (one caller at a time), so
        a restarted server is picked up without restarting the app."""
        self._ready.wait()
        failed = self._dense_error
        if isinstance(failed, ServerUnavailableError | IndexBusyError):
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

    def search(self, question: object, k: int = 5, mode: str = "hybrid"):
        """The ranked chunks for ``question`` (bounded like a question; ``k`` from 1 to 50).
        ``search_notices()`` tells afterwards whether keyword search stood in for dense."""
        text, _notices = clean_question(question, self.settings.max_question_chars)
        return self.retriever.search(text, k=search_depth(k), mode=mode)

    def search_notices(self) -> list[str]:
        """Notices about the last searches on this thread (e.g. keyword search only)."""
        return self.retriever.take_notices()

    def conversation(self) -> BoundedConversation:
        """A fresh multi-turn conversation with its own state."""
        from chatbot.carry import Conversation

        return BoundedConversation(Conversation(self.engine), self.retriever,
                                   self.settings.max_question_chars)

    def figures(self, metric_ids) -> list[dict]:
        """The figures behind an answer (``answer.metric_ids``) as metrics-table rows, in order:
        label, display (as written), value, unit, period, source, quote, section, … — what the
        app draws a chart or a source card from."""
        facts = self.engine.facts
        return [facts.by_id[i].as_row() for i in metric_ids if i in facts.by_id]

    def confusion(self, items) -> list[list[str]]:
        """The intent classifier's confusion table on eval items whose category names an intent."""
        from chatbot.classify import confusion

        labelled = [(it.turns[-1], INTENT_OF[it.category]) for it in items
                    if it.category in INTENT_OF and it.single_turn]
        return confusion(self.engine.model, labelled, lambda t: self.engine.reader.read(t).op)


class BoundedConversation:
    """A conversation whose input is bounded (``inputs.clean_question``) before anything reads
    or keeps it, and whose answers carry the notices of a degraded search. Everything else
    (``history``, ``state``, ``reset``) is the wrapped conversation's."""

    def __init__(self, inner, retriever, limit: int):
        self._inner = inner
        self._retriever = retriever
        self._limit = limit

    def ask(self, question: object):
        """Answer ``question`` (any object; nothing raises but a bug)."""
        text, notices = clean_question(question, self._limit)
        self._retriever.take_notices()  # forget what an earlier call on this thread left
        answer = self._inner.ask(text)
        extra = [n for n in self._retriever.take_notices() if n not in answer.notices]
        if notices or extra:
            answer = replace(answer, notices=[*notices, *answer.notices, *extra])
        return answer

    def reset(self) -> None:
        """Forget every turn (the next question starts afresh)."""
        self._inner.reset()

    def __getattr__(self, name: str):
        return getattr(self._inner, name)
