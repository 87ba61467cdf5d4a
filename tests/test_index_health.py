"""Index failures told apart (issue 14, item 2): read-only, unreadable, busy, corrupt.

Before, any failure opening the index was called "corrupt" and started a rebuild: a read-only
index made every prose or search question fail with a traceback. Now:

- read-only (a read-only bind mount, made with ``unshare -m``: as root, removing write bits
  does not stop writes) is served from a private copy: prose answers use the index;
- unreadable (the OS refuses to read ``chroma.sqlite3``; run as ``nobody``) is reported and not
  rebuilt; questions are answered from the table and keyword search, with a notice;
- busy (another process holds a lock on the file) is waited for up to ``chroma_timeout``, then
  reported and tried again at the next question, never rebuilt;
- corrupt in a folder that cannot be written is reported, not half-rebuilt.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from chatbot import Chatbot
from chatbot.engine import build
from chatbot.errors import IndexBusyError
from chatbot.index import CURRENT
from chatbot.retrieve import KEYWORD_ONLY_NOTICE
from chatbot.settings import DEFAULT_CORPUS, ROOT, Settings

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PROSE_Q = "What does the snapshot say about NHS procurement?"
CACHE = ROOT / "indexes" / "embedding-cache.json"
READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'


def _settings(root: Path) -> Settings:
    return Settings(corpus_paths=(root / "corpus" / DEFAULT_CORPUS.name,),
                    metrics_path=root / "corpus" / "metrics.csv",
                    overrides_path=ROOT / "corpus" / "metric_overrides.csv",
                    index_dir=root / "indexes", feedback_db=root / "feedback.sqlite3",
                    chroma_timeout=1.0)


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("health-golden")
    (root / "corpus").mkdir()
    (root / "indexes").mkdir()
    shutil.copy(DEFAULT_CORPUS, root / "corpus" / DEFAULT_CORPUS.name)
    if CACHE.exists():
        shutil.copy(CACHE, root / "indexes" / CACHE.name)
    build(_settings(root), progress=lambda _m: None)
    return root


def _copy(golden: Path, where: Path) -> Path:
    shutil.copytree(golden, where, symlinks=True)
    return where


def _env(root: Path, **extra: str) -> dict[str, str]:
    s = _settings(root)
    return os.environ | {"CHATBOT_CORPUS": str(s.corpus_paths[0]), "CHATBOT_METRICS": str(s.metrics_path),
                         "CHATBOT_INDEX_DIR": str(s.index_dir), "CHATBOT_CHROMA_URL": "",
                         "CHATBOT_DENSE": "1", "CHATBOT_LLM": "", "CHATBOT_CHROMA_TIMEOUT": "1",
                         **extra}


def _state(index_dir: Path) -> tuple[str, list[str]]:
    return os.readlink(index_dir / CURRENT), sorted(p.name for p in index_dir.glob("build-*"))


def _ask_json(cmd: list[str], env: dict[str, str]) -> tuple[dict, str]:
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    return json.loads(out.stdout), out.stderr


def _ro(folder: Path, *cmd: str) -> list[str]:
    return ["unshare", "-m", "sh", "-c", READ_ONLY, str(folder), *cmd]


def test_read_only_index_is_served_read_only(golden, tmp_path):
    root = _copy(golden, tmp_path / "w")
    before = _state(root / "indexes")
    ans, err = _ask_json(_ro(root / "indexes", str(BIN / "chatbot"), "ask", "--json", PROSE_Q),
                         _env(root))
    assert ans["kind"] == "prose" and ans["answered"], ans
    assert "procurement" in ans["text"].lower() and not ans["notices"], ans  # dense, no fallback
    assert "corrupt" not in err and "rebuilding" not in err, err
    search = subprocess.run(_ro(root / "indexes", str(BIN / "chatbot"), "search", "-k", "3",
                                "average salary"), env=_env(root), capture_output=True, text=True,
                            timeout=300)
    assert search.returncode == 0 and "talent-earnings-average-salary" in search.stdout, search.stderr
    assert "Note:" not in search.stderr
    assert _state(root / "indexes") == before


def test_read_only_corrupt_index_is_reported_not_rebuilt(golden, tmp_path):
    root = _copy(golden, tmp_path / "w")
    db = (root / "indexes" / CURRENT).resolve() / "chroma" / "chroma.sqlite3"
    db.write_bytes(b"not a database " * 500)
    before = _state(root / "indexes")
    ans, err = _ask_json(_ro(root / "indexes", str(BIN / "chatbot"), "ask", "--json", PROSE_Q),
                         _env(root))
    assert ans["answered"] and ans["notices"] == [KEYWORD_ONLY_NOTICE], ans
    assert "cannot be written, so it is not rebuilt" in err, err
    assert _state(root / "indexes") == before


def _reachable_by_others(path: Path) -> list[tuple[Path, int]]:
    """Let `nobody` pass through every folder above ``path`` (a checkout cloned into a private
    ``mktemp -d`` folder is not); returns the modes to put back."""
    changed = []
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode & 0o7777
        if not mode & 0o001:
            os.chmod(folder, mode | 0o001)
            changed.append((folder, mode))
    return changed


def test_unreadable_index_is_reported_not_rebuilt(golden):
    # The folders must be reachable by `nobody`: pytest's own temporary folders are not, nor is
    # a checkout (and its venv) cloned into a private temporary folder.
    root = Path(tempfile.mkdtemp(prefix="snapshot-qa-unreadable-"))
    restore = _reachable_by_others(BIN.resolve()) + _reachable_by_others(ROOT.resolve())
    try:
        _copy(golden, root / "w")
        for dirpath, _dirs, files in os.walk(root):
            os.chmod(dirpath, 0o755)
            for name in files:
                os.chmod(os.path.join(dirpath, name), 0o644)
        db = (root / "w" / "indexes" / CURRENT).resolve() / "chroma" / "chroma.sqlite3"
        os.chmod(db, 0o000)
        before = _state(root / "w" / "indexes")
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               str(BIN / "chatbot"), "ask", "--json", PROSE_Q]
        ans, err = _ask_json(cmd, _env(root / "w", HOME=str(root)))
        assert ans["answered"] and ans["notices"] == [KEYWORD_ONLY_NOTICE], ans
        assert "cannot be read (Permission denied)" in err and "not rebuilt" in err, err
        assert "corrupt" not in err and "rebuilding" not in err, err
        assert _state(root / "w" / "indexes") == before
    finally:
        shutil.rmtree(root, ignore_errors=True)
        for folder, mode in reversed(restore):
            os.chmod(folder, mode)


def test_busy_index_waits_then_answers_and_recovers(golden, tmp_path, caplog):
    root = _copy(golden, tmp_path / "w")
    settings = _settings(root)
    db = (root / "indexes" / CURRENT).resolve() / "chroma" / "chroma.sqlite3"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing
    caplog.set_level(logging.INFO, logger="chatbot")
    try:
        t0 = time.perf_counter()
        bot = Chatbot(settings)
        assert bot.wait_ready(60) is False
        assert isinstance(bot._dense_error, IndexBusyError), bot._dense_error
        ans = bot.conversation().ask(PROSE_Q)
        took = time.perf_counter() - t0
        assert ans.answered and ans.notices == [KEYWORD_ONLY_NOTICE], ans
        assert took < 15, took  # Chroma alone blocks on a locked file without limit
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    again = bot.conversation().ask(PROSE_Q)  # the next question opens the index
    assert again.answered and not again.notices and bot.wait_ready(0)
    assert not [r for r in caplog.records if "rebuilding" in r.getMessage()
                or "corrupt" in r.getMessage()]
    assert len(list((root / "indexes").glob("build-*"))) == 1
