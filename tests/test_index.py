"""Index: manifest, loading vs rebuilding, corruption, and builds killed halfway.

Every test works in its own temporary index folder and never writes to the repo's
``indexes/``. Rebuilds reuse a warm ``embedding-cache.json`` so that only the tests about
embedding pay for the sentence-transformers import (about 8 s).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chatbot.chunking import CHUNKER_VERSION
from chatbot.engine import build, load_corpus
from chatbot.index import (
    CURRENT,
    MANIFEST,
    MODEL_NAME,
    ensure_index,
    open_embedded,
    sha256_file,
)
from chatbot.settings import ROOT, Settings

CACHE = "embedding-cache.json"
PROBE = "talent-earnings-average-salary"


def _settings(root: Path) -> Settings:
    cdir = root / "corpus"
    cdir.mkdir(parents=True, exist_ok=True)
    src = ROOT / "corpus" / "midlands-engine-ddhi-cluster-snapshot-2023.txt"
    shutil.copy(src, cdir / src.name)
    return Settings(corpus_paths=(cdir / src.name,), metrics_path=cdir / "metrics.csv",
                    overrides_path=ROOT / "corpus" / "metric_overrides.csv",
                    index_dir=root / "indexes", feedback_db=root / "feedback.sqlite3")


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory) -> Path:
    """An embedding cache for the current chunk texts, made once for this module.

    Seeded with a copy of the repo's cache when ``chatbot build`` has made one (read, never
    written); whatever it lacks is embedded here.
    """
    settings = _settings(tmp_path_factory.mktemp("warm"))
    settings.index_dir.mkdir()
    seed = ROOT / "indexes" / CACHE
    if seed.is_file():
        shutil.copy(seed, settings.index_dir / CACHE)
    corpus = load_corpus(settings)
    _store, what = ensure_index(settings, corpus.chunks, corpus.metrics_sha, lambda m: None)
    assert what.startswith("rebuilt")
    return settings.index_dir / CACHE


@pytest.fixture
def settings(tmp_settings, warm_cache) -> Settings:
    tmp_settings.index_dir.mkdir(parents=True)
    shutil.copy(warm_cache, tmp_settings.index_dir / CACHE)
    return tmp_settings


def _next_second() -> None:
    """Sleep into the next wall-clock second (build folders are named to the second)."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


@pytest.fixture
def built(settings):
    """A complete index in the temporary folder; returns (settings, corpus)."""
    corpus = load_corpus(settings)
    _store, what = ensure_index(settings, corpus.chunks, corpus.metrics_sha, lambda m: None)
    assert what.startswith("rebuilt")
    # A rebuild in the same second by the same process collides with this build's folder
    # name: test_two_builds_in_one_second covers that, the other tests step past it.
    _next_second()
    return settings, corpus


def _ensure(settings: Settings, force: bool = False):
    corpus = load_corpus(settings)
    messages: list[str] = []
    store, what = ensure_index(settings, corpus.chunks, corpus.metrics_sha, messages.append,
                               force=force)
    return store, what, messages


def _probe_vector(settings: Settings, corpus) -> list[float]:
    """The stored embedding of one chunk: searching with it must find that chunk first."""
    import hashlib

    text = next(c.text for c in corpus.chunks if c.chunk_id == PROBE)
    cache = json.loads((settings.index_dir / CACHE).read_text())
    return cache["vectors"][hashlib.sha256(text.encode()).hexdigest()]


def _builds(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.index_dir.iterdir() if p.name.startswith("build-"))


def _live(settings: Settings) -> str:
    return os.readlink(settings.index_dir / CURRENT)


def test_build_writes_current_link_and_manifest(settings):
    summary = build(settings, progress=lambda m: None)
    assert "index rebuilt (no index found)" in summary
    link = settings.index_dir / CURRENT
    assert link.is_symlink() and link.resolve().parent == settings.index_dir.resolve()
    assert _builds(settings) == [_live(settings)]
    manifest = json.loads((link / MANIFEST).read_text())
    corpus = load_corpus(settings)
    (path,) = settings.corpus_paths
    assert manifest["corpus_sha256"] == {path.name: sha256_file(path)}
    assert manifest["metrics_sha256"] == corpus.metrics_sha
    assert manifest["model"] == MODEL_NAME
    assert manifest["chunker_version"] == CHUNKER_VERSION
    assert manifest["n_chunks"] == len(corpus.chunks)
    assert open_embedded(settings).count() == len(corpus.chunks)


def test_matching_manifest_loads_without_rebuilding(built):
    settings, corpus = built
    before = _live(settings)
    store, what, messages = _ensure(settings)
    assert what == "loaded" and messages == []
    assert _live(settings) == before
    assert store.query(_probe_vector(settings, corpus), 1)[0][0] == PROBE


def test_changed_corpus_rebuilds(built, caplog):
    settings, corpus = built
    before = _live(settings)
    # One appended blank line: the chunks stay the same, only the file's hash tells.
    with open(settings.corpus_paths[0], "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert [c.text for c in load_corpus(settings).chunks] == [c.text for c in corpus.chunks]
    _store, what, messages = _ensure(settings)
    assert what == "rebuilt (index is stale (corpus_sha256 differs))"
    said = [r for r in caplog.records if r.getMessage().startswith("rebuilding the index")]
    assert [r.getMessage() for r in said] == [
        "rebuilding the index: index is stale (corpus_sha256 differs)"]  # said once, as a warning
    assert not [m for m in messages if m.startswith("rebuilding")]
    assert _live(settings) != before and _builds(settings) == [_live(settings)]
    assert _ensure(settings)[1] == "loaded"


def test_changed_manifest_hash_rebuilds(built):
    settings, _corpus = built
    path = settings.index_dir / CURRENT / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["metrics_sha256"] = "0" * 64
    path.write_text(json.dumps(manifest))
    assert _ensure(settings)[1] == "rebuilt (index is stale (metrics_sha256 differs))"
    assert _ensure(settings)[1] == "loaded"


def test_deleted_index_folder_rebuilds(built, warm_cache):
    settings, corpus = built
    shutil.rmtree(settings.index_dir)
    # The embedding cache goes too; putting a warm one back only spares the re-embedding
    # (the killed-build test below embeds from cold).
    settings.index_dir.mkdir()
    shutil.copy(warm_cache, settings.index_dir / CACHE)
    store, what, _ = _ensure(settings)
    assert what == "rebuilt (no index found)"
    assert store.count() == len(corpus.chunks)
    assert store.query(_probe_vector(settings, corpus), 1)[0][0] == PROBE


def test_corrupt_chroma_file_is_detected_and_rebuilt(built):
    settings, corpus = built
    db = settings.index_dir / CURRENT / "chroma" / "chroma.sqlite3"
    assert db.stat().st_size > 4096
    with open(db, "r+b") as fh:
        fh.write(b"\xde\xad\xbe\xef" * 1024)
    store, what, _ = _ensure(settings)
    assert what.startswith("rebuilt (index is corrupt"), what
    assert store.query(_probe_vector(settings, corpus), 1)[0][0] == PROBE
    assert _ensure(settings)[1] == "loaded"


def test_forced_rebuild_swaps_and_removes_the_old_build(built):
    settings, corpus = built
    before = _live(settings)
    store, what, _ = _ensure(settings, force=True)
    assert what == "rebuilt (forced rebuild)"
    assert _live(settings) != before and _builds(settings) == [_live(settings)]
    assert store.count() == len(corpus.chunks)


def test_two_builds_in_one_second(settings):
    """A rebuild right after a build (say, corruption found just after building) must work.

    Build folders are named ``build-<time to the second>-<pid>-<digest>``, so a second build
    of the same inputs by the same process within one second picks the live folder's name.
    """
    corpus = load_corpus(settings)
    _next_second()
    for _ in range(2):
        store, what = ensure_index(settings, corpus.chunks, corpus.metrics_sha, lambda m: None,
                                   force=True)
        assert what == "rebuilt (forced rebuild)"
    assert _builds(settings) == [_live(settings)]
    assert store.count() == len(corpus.chunks)


# --------------------------------------------------------------------------- killed builds


def _cli_env(settings: Settings) -> dict[str, str]:
    return os.environ | {
        "CHATBOT_CORPUS": os.pathsep.join(str(p) for p in settings.corpus_paths),
        "CHATBOT_METRICS": str(settings.metrics_path),
        "CHATBOT_INDEX_DIR": str(settings.index_dir),
        "CHATBOT_CHROMA_URL": "",  # the embedded store, whatever the caller's environment says
        "PYTHONUNBUFFERED": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }


def _kill_build(settings: Settings, after: str | None, delay: float, timeout: float = 60) -> list[str]:
    """Run ``chatbot build --force``; SIGKILL it ``delay`` s after a line containing ``after``
    (or ``delay`` s after the start when ``after`` is None). Returns the lines it printed."""
    exe = os.path.join(os.path.dirname(sys.executable), "chatbot")
    proc = subprocess.Popen([exe, "build", "--force"], env=_cli_env(settings),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while after is not None and not any(after in ln for ln in lines):
            assert proc.poll() is None, f"build ended before printing {after!r}: {lines}"
            assert time.monotonic() < deadline, f"no {after!r} within {timeout} s: {lines}"
            ready, _, _ = select.select([proc.stderr], [], [], 0.5)
            if ready:
                lines.append(proc.stderr.readline())
        time.sleep(delay)
        assert proc.poll() is None, f"build finished before the kill: {lines}"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    return lines


# (line to wait for, extra delay, drop the embedding cache first)
KILL_POINTS = {
    "while-importing": (None, 0.4, False),
    "after-parsing": ("parsing", 0.0, False),
    "while-embedding": ("embedding", 0.3, True),
    "while-writing-chroma": ("cached embeddings", 0.3, False),
}


def test_killed_builds_leave_the_previous_index_serving(built, warm_cache):
    settings, corpus = built
    vector = _probe_vector(settings, corpus)
    live = _live(settings)
    leftovers = 0
    for name, (after, delay, cold) in KILL_POINTS.items():
        if cold:
            (settings.index_dir / CACHE).unlink()
        lines = _kill_build(settings, after, delay)
        if cold:
            assert any("embedding" in ln for ln in lines), lines
            shutil.copy(warm_cache, settings.index_dir / CACHE)
        # The link still points at the complete build, and it still answers.
        assert _live(settings) == live, name
        store, what, _ = _ensure(settings)
        assert what == "loaded", (name, what)
        assert store.query(vector, 1)[0][0] == PROBE, name
        leftovers += len([b for b in _builds(settings) if b != live])
    # At least one kill landed after the new build folder was made; ensure_index above does
    # not touch it, the next build removes it.
    assert leftovers >= 1
    assert any(b != live for b in _builds(settings))
    store, what, _ = _ensure(settings, force=True)
    assert what == "rebuilt (forced rebuild)"
    assert _builds(settings) == [_live(settings)] and _live(settings) != live
    assert not list(settings.index_dir.glob(".current-*"))
    assert store.query(vector, 1)[0][0] == PROBE
