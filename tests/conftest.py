"""Shared fixtures: the real corpus, parsed once; settings pointing at temporary folders."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from chatbot.engine import load_corpus  # noqa: E402
from chatbot.ingest import clean, load_snapshot  # noqa: E402
from chatbot.settings import DEFAULT_CORPUS, ROOT, Settings  # noqa: E402

CORPUS = DEFAULT_CORPUS


@pytest.fixture(scope="session")
def snapshot():
    return load_snapshot(CORPUS)


@pytest.fixture(scope="session")
def raw_text() -> str:
    return CORPUS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def clean_text(raw_text) -> str:
    return clean(raw_text)


@pytest.fixture(scope="session")
def corpus():
    return load_corpus(Settings())


@pytest.fixture(scope="session")
def table(corpus):
    return corpus.table


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings with a private copy of the corpus, metrics file and index folder."""
    cdir = tmp_path / "corpus"
    cdir.mkdir()
    shutil.copy(CORPUS, cdir / CORPUS.name)
    return Settings(corpus_paths=(cdir / CORPUS.name,), metrics_path=cdir / "metrics.csv",
                    overrides_path=ROOT / "corpus" / "metric_overrides.csv",
                    index_dir=tmp_path / "indexes", feedback_db=tmp_path / "feedback.sqlite3")


@pytest.fixture(scope="session")
def bot():
    """One real engine (dense retrieval loaded) shared by the answer tests."""
    from chatbot.engine import Chatbot

    b = Chatbot(Settings())
    assert b.wait_ready(timeout=300), "dense retrieval failed to load"
    return b


@dataclass(frozen=True)
class FullEval:
    """One ``chatbot eval`` of every open set, shared by the gate, baseline and edit tests."""

    code: int
    lines: tuple[str, ...]
    report: dict


@pytest.fixture(scope="session")
def full_eval(bot, tmp_path_factory) -> FullEval:
    """Every open set asked once, with the sanity baselines and the edit suite (the three
    tests that read it used to run it three times: minutes of the suite)."""
    from chatbot.evaluate import Options, run

    folder = tmp_path_factory.mktemp("report")
    lines: list[str] = []
    code = run(Options(report_dir=folder, baselines=False, edits=True), bot.settings,
               lines.append, bot=bot)
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return FullEval(code, tuple(lines), report)


@pytest.fixture
def ask(bot):
    """Ask one or more turns in a fresh conversation; return the last answer."""

    def _ask(*turns: str):
        conv = bot.conversation()
        ans = None
        for t in turns:
            ans = conv.ask(t)
        return ans

    return _ask


class ChromaServer:
    """``chroma run`` on a folder and port: start, stop, wipe, start again."""

    def __init__(self, path: Path, port: int):
        self.path, self.port, self.proc = path, port, None
        self.url = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 60) -> None:
        import subprocess
        import sys
        import time
        import urllib.request

        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(self.path),
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=os.environ | {"ANONYMIZED_TELEMETRY": "False"})
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.proc.poll() is None, "chroma run exited"
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"chroma run did not answer on {self.url}")

    def stop(self) -> None:
        import subprocess

        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(20)
        self.proc = None


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A running ``chroma run`` server on a private folder (stopped after the test)."""
    srv = ChromaServer(tmp_path / "chroma-server", free_port())
    srv.start()
    yield srv
    srv.stop()


def private_settings(root: Path, **changes) -> Settings:
    """Settings on a private copy of the corpus, with the repo's warm embedding cache."""
    (root / "corpus").mkdir(parents=True)
    (root / "indexes").mkdir()
    shutil.copy(CORPUS, root / "corpus" / CORPUS.name)
    cache = ROOT / "indexes" / "embedding-cache.json"
    if cache.exists():
        shutil.copy(cache, root / "indexes" / cache.name)
    return Settings(corpus_paths=(root / "corpus" / CORPUS.name,),
                    metrics_path=root / "corpus" / "metrics.csv",
                    overrides_path=ROOT / "corpus" / "metric_overrides.csv",
                    index_dir=root / "indexes", feedback_db=root / "feedback.sqlite3", **changes)


def env_of(s: Settings, **extra: str) -> dict[str, str]:
    """The environment variables that give ``Settings.from_env()`` the settings ``s``."""
    return {"CHATBOT_CORPUS": os.pathsep.join(str(p) for p in s.corpus_paths),
            "CHATBOT_METRICS": str(s.metrics_path), "CHATBOT_INDEX_DIR": str(s.index_dir),
            "CHATBOT_CHROMA_URL": s.chroma_url or "", "CHATBOT_DENSE": "1" if s.dense else "0",
            "CHATBOT_CHROMA_TIMEOUT": str(s.chroma_timeout), "CHATBOT_LLM": "",
            "CHATBOT_FEEDBACK_DB": str(s.feedback_db), **extra}
