"""Index: Chroma (embedded or server) + the manifest that says when to rebuild.

In: chunks from ``chunking`` and the settings. Out: a ``VectorStore`` that answers
``query(vector, k) -> [(chunk_id, distance)]``.

Nothing outside the ``index*`` and ``embeddings`` modules imports chromadb, onnxruntime or
sentence-transformers (``embeddings`` holds the models; this module re-exports them).

- Embedded mode: ``indexes/current`` is a symlink to a complete build folder holding the Chroma
  files and ``manifest.json``. A build writes a new folder and swaps the link atomically, so a
  build killed halfway leaves the previous index serving.
- Opening tells the failures apart (``index_health``): an index that cannot be read or is
  locked by another process is reported, not rebuilt; a corrupt one is rebuilt; one in a folder
  that cannot be written is served from a private read-only copy.
- Server mode (``chroma_url``, ``index_server``): the same chunks go into a collection named
  after the manifest digest on a ``chroma run`` server; a missing collection is built.
- When the process exits, ``EXITING`` is set: index work stops at its next checkpoint instead of
  starting a rebuild that the interpreter would cut off inside native code.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chatbot import index_health as health
from chatbot.chunking import CHUNKER_VERSION
from chatbot.embeddings import (  # noqa: F401 - re-exported: the index stage's public names
    DIM,
    MODEL_NAME,
    QUERY_MODEL_NAME,
    QueryEmbedder,
    embed_cached,
    embed_documents,
    embeddings_for_langchain,
    model_path,
)
from chatbot.errors import IndexBusyError, IndexCorruptError, IndexStoreError
from chatbot.index_server import http_client, open_or_build_server, unavailable  # noqa: F401
from chatbot.records import Chunk
from chatbot.settings import Settings

log = logging.getLogger("chatbot.index")

#: A unit vector to check that an opened index can be searched.
_PROBE = [DIM ** -0.5] * DIM
MANIFEST = "manifest.json"
CURRENT = "current"
LOCK = ".build.lock"
#: Set when the process exits (see ``chatbot.engine``): index work stops at its next checkpoint.
EXITING = threading.Event()


class Interrupted(IndexStoreError):
    """Index work stopped because the process is exiting."""


def checkpoint() -> None:
    """Raise ``Interrupted`` when the process is exiting (called between steps of index work)."""
    if EXITING.is_set():
        raise Interrupted("index work stopped: the process is exiting")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- manifest


def expected_manifest(settings: Settings, metrics_sha: str, n_chunks: int,
                      record: dict | None = None) -> dict:
    """What a fresh index for these inputs would record. ``record`` (``integrity``) describes
    the corpus it was built from: bytes, sections and figures per file, metrics rows."""
    return {
        "corpus_sha256": {str(p.name): sha256_file(p) for p in settings.corpus_paths},
        "metrics_sha256": metrics_sha,
        "model": MODEL_NAME,
        "query_model": QUERY_MODEL_NAME,
        "chunker_version": CHUNKER_VERSION,
        "n_chunks": n_chunks,
    } | ({"corpus": record} if record else {})


def digest(manifest: dict) -> str:
    keys = ("corpus_sha256", "metrics_sha256", "model", "chunker_version", "n_chunks")
    blob = json.dumps({k: manifest[k] for k in keys}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def read_manifest(index_dir: Path) -> dict | None:
    path = Path(index_dir) / CURRENT / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stale_reason(found: dict | None, expected: dict) -> str | None:
    """Why an index with manifest ``found`` cannot serve ``expected`` (None when it can)."""
    if found is None:
        return "no index found"
    for key in ("corpus_sha256", "metrics_sha256", "model", "chunker_version", "n_chunks"):
        if found.get(key) != expected[key]:
            return f"index is stale ({key} differs)"
    return None


# --------------------------------------------------------------------------- stores


@dataclass
class VectorStore:
    """A Chroma collection of chunk embeddings. ``reopen`` (server mode) looks the collection up
    again, re-creating it, when the server no longer has the one this store holds."""

    collection: object
    where: str
    reopen: Callable[[], object] | None = None

    def _call(self, fn: Callable[[object], object]):
        try:
            return fn(self.collection)
        except Exception as exc:  # chromadb raises many types; all mean "cannot search"
            if self.reopen is None or not _missing(exc):
                raise _wrap(exc, self.where) from exc
        log.warning("the collection on %s is gone (server restarted or rebuilt); finding it again",
                    self.where)
        self.collection = self.reopen()
        try:
            return fn(self.collection)
        except Exception as exc:
            raise _wrap(exc, self.where) from exc

    def query(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        res = self._call(lambda c: c.query(query_embeddings=[vector], n_results=k,
                                           include=["distances"]))
        return list(zip(res["ids"][0], res["distances"][0], strict=False))

    def count(self) -> int:
        return int(self._call(lambda c: c.count()))


def _missing(exc: Exception) -> bool:
    text = f"{type(exc).__name__}: {exc}".lower()
    return "notfound" in text or "does not exist" in text or "not found" in text


def _wrap(exc: Exception, where: str) -> IndexStoreError:
    if isinstance(exc, IndexStoreError):
        return exc
    text = f"{type(exc).__name__}: {exc}"
    if where.startswith("http") and any(w in text.lower() for w in
                                        ("connect", "refused", "timed out", "timeout",
                                         "unreachable", "remoteprotocol")):
        return unavailable(where, f"does not answer ({type(exc).__name__})")
    return IndexStoreError(f"vector index at {where} failed ({text[:200]}); run `chatbot build`")


def _chroma_settings():
    from chatbot.embeddings import offline

    offline()
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _persistent(path: Path):
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def _fill(collection, chunks: Sequence[Chunk], vectors: list[list[float]]) -> None:
    for i in range(0, len(chunks), 256):
        checkpoint()
        part = chunks[i:i + 256]
        collection.add(ids=[c.chunk_id for c in part], embeddings=vectors[i:i + 256],
                       documents=[c.text for c in part], metadatas=[c.metadata() for c in part])


def _embed_with_cache(index_dir: Path, chunks: Sequence[Chunk],
                      progress: Callable[[str], None]) -> list[list[float]]:
    return embed_cached(index_dir, chunks, progress, checkpoint)


def build_embedded(settings: Settings, chunks: Sequence[Chunk], manifest: dict,
                   progress: Callable[[str], None]) -> Path:
    """Build a complete index in a new folder and swap ``indexes/current`` to it.

    Any failure (a full disk, the process exiting) removes the half-built folder and raises
    ``IndexStoreError``; the previous index keeps serving."""
    root = Path(settings.index_dir)
    root.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(root)
    vectors = _embed_with_cache(root, chunks, progress)
    folder = None
    try:
        folder = Path(tempfile.mkdtemp(
            prefix=f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{digest(manifest)}-",
            dir=root))
        client = _persistent(folder / "chroma")
        coll = client.get_or_create_collection(settings.collection,
                                               metadata={"hnsw:space": "cosine"})
        _fill(coll, chunks, vectors)
        if coll.count() != len(chunks):
            raise IndexStoreError(f"index build wrote {coll.count()} of {len(chunks)} chunks")
        checkpoint()
        (folder / MANIFEST).write_text(
            json.dumps(manifest | {"built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1),
            encoding="utf-8")
        _swap(root, folder)
    except BaseException as exc:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, IndexStoreError) or not isinstance(exc, Exception):
            raise
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)[:200]
        raise IndexStoreError(f"could not write the index in {root} ({why}); free some space or "
                              "fix the folder's permissions, then run `chatbot build`") from exc
    return folder


def _swap(root: Path, folder: Path) -> None:
    """Point ``root/current`` at ``folder`` atomically, then remove older builds."""
    link = root / CURRENT
    old = os.path.realpath(link) if link.is_symlink() else None
    tmp = root / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(folder.name, tmp)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link, ignore_errors=True)
    os.replace(tmp, link)
    if old and Path(old) != folder.resolve():
        shutil.rmtree(old, ignore_errors=True)



def _clean_leftovers(root: Path) -> None:
    """Remove half-built folders of killed builds (anything not pointed to by ``current``)."""
    link = root / CURRENT
    live = os.path.realpath(link) if link.exists() else None
    for p in root.glob("build-*"):
        if str(p.resolve()) != live:
            shutil.rmtree(p, ignore_errors=True)
    for p in root.glob(".current-*"):
        p.unlink(missing_ok=True)



@contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    """One check-or-build at a time per index folder, across processes: a second builder waits
    instead of removing the folder the first is still writing as a leftover, then finds the
    fresh index. The kernel drops the lock when its holder dies (even by SIGKILL)."""
    try:
        fh = open(root / LOCK, "a")  # held for the whole block
    except OSError:  # a read-only index folder: nothing can be built there anyway
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def open_embedded(settings: Settings) -> VectorStore:
    """Open ``indexes/current``, telling apart why it cannot be: ``IndexBusyError`` (locked by
    another process), ``IndexCorruptError`` (rebuild it) or ``IndexStoreError`` (missing, or the
    OS refuses to read it). A folder that cannot be written is served from a read-only copy."""
    folder = (Path(settings.index_dir) / CURRENT).resolve()  # Chroma caches clients by path
    chroma = folder / "chroma"
    if not chroma.is_dir():
        raise IndexStoreError(f"no index at {folder}; run `chatbot build`")
    state, detail = health.probe(chroma / health.DB_NAME, settings.chroma_timeout)
    if state == health.BUSY:
        raise IndexBusyError(f"the index at {folder} is locked by another process ({detail}); "
                             "it is opened again at the next question")
    if state == health.UNREADABLE:
        raise IndexStoreError(f"the index at {folder} cannot be read ({detail}); check the "
                              "permissions of the folder and its files (it is not rebuilt)")
    if state == health.CORRUPT:
        raise IndexCorruptError(f"index at {folder} is unreadable as an index ({detail})")
    path = chroma
    if not health.writable(chroma):
        log.info("the index folder %s cannot be written: serving a read-only copy", folder)
        path = health.readonly_copy(chroma)
    try:
        return _open_store(path, settings.collection, str(folder))
    except Exception as exc:
        if path == chroma and "readonly database" in str(exc).lower():
            log.info("the index at %s refuses writes: serving a read-only copy", folder)
            return _open_store(health.readonly_copy(chroma), settings.collection, str(folder))
        raise


def _open_store(path: Path, collection: str, where: str) -> VectorStore:
    try:
        client = _persistent(path)
        store = VectorStore(client.get_collection(collection), where)
        store.count()
        store.query(_PROBE, 1)  # a search must work too, not only the sqlite counters
        return store
    except Exception as exc:
        if "readonly database" in str(exc).lower():
            raise
        raise IndexCorruptError(f"index at {where} is unreadable ({type(exc).__name__}: "
                                f"{str(exc)[:160]})") from exc


def ensure_index(settings: Settings, chunks: Sequence[Chunk], metrics_sha: str,
                 progress: Callable[[str], None], force: bool = False,
                 record: dict | None = None) -> tuple[VectorStore, str]:
    """Open a current index or (re)build it. Returns the store and what was done."""
    root = Path(settings.index_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexStoreError(f"cannot create the index folder {root} ({exc.strerror}); point "
                              "CHATBOT_INDEX_DIR at a writable folder") from exc
    manifest = expected_manifest(settings, metrics_sha, len(chunks), record)
    if settings.chroma_url:
        return open_or_build_server(settings, chunks, manifest, progress), "server"
    with _build_lock(root):
        return _ensure_embedded(settings, chunks, manifest, progress, force)


def _ensure_embedded(settings: Settings, chunks: Sequence[Chunk], manifest: dict,
                     progress: Callable[[str], None], force: bool) -> tuple[VectorStore, str]:
    root = Path(settings.index_dir)
    found = read_manifest(root)
    reason = "forced rebuild" if force else stale_reason(found, manifest)
    if found is None and not force and (root / CURRENT).exists():
        reason = f"the manifest {MANIFEST} is missing or unreadable"
    if reason is None:
        try:  # busy or unreadable indexes raise from here: a rebuild would not help them
            store = open_embedded(settings)
            if store.count() == len(chunks):
                return store, "loaded"
            reason = f"index is corrupt ({store.count()} of {len(chunks)} chunks)"
        except IndexCorruptError as exc:
            reason = f"index is corrupt ({exc})"
    checkpoint()  # never start a rebuild that the exiting interpreter would cut off
    if not health.writable(root):
        raise IndexStoreError(f"{reason}, and the index folder {root} cannot be written, so it "
                              "is not rebuilt; run `chatbot build` where it can be written or "
                              "point CHATBOT_INDEX_DIR at a writable folder")
    # Said once, through logging: the CLI shows it on stderr, the app in its log. A rebuild
    # nobody asked for means something was missing, stale or broken: a warning.
    (log.info if force else log.warning)("rebuilding the index: %s", reason)
    build_embedded(settings, chunks, manifest, progress)
    return open_embedded(settings), f"rebuilt ({reason})"
