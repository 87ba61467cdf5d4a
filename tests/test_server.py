"""Server mode: a real ``chroma run`` server, the labelled retrieval checks against it, and a
server that goes away and comes back."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from chatbot.errors import ServerUnavailableError
from chatbot.evaluate import load_retrieval_items, retrieval_scores
from chatbot.retrieve import KEYWORD_ONLY_NOTICE
from chatbot.settings import ROOT, Settings

pytestmark = pytest.mark.slow

CHROMA = Path(sys.executable).parent / "chroma"
MIN_RECALL_AT_5 = 0.95
MIN_MRR = 0.80
QUESTION = "What is the average salary?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """``chroma run`` in a subprocess; ``start`` waits for the heartbeat."""

    def __init__(self, path: Path, port: int, log: Path):
        self.path, self.port, self.log = path, port, log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        env = os.environ | {"ANONYMIZED_TELEMETRY": "False"}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1",
                 "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, f"chroma did not start in {timeout} s"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    root = tmp_path_factory.mktemp("chroma-server")
    srv = ChromaServer(root / "data", _free_port(), root / "chroma.log")
    request.addfinalizer(srv.stop)
    srv.start()
    return srv


@pytest.fixture(scope="module")
def bot(server, tmp_path_factory):
    """The engine against the server; the collection is built there by ``ensure_index``."""
    from chatbot.engine import Chatbot

    root = tmp_path_factory.mktemp("server-client")
    (root / "indexes").mkdir()
    seed = ROOT / "indexes" / "embedding-cache.json"
    if seed.is_file():  # read only: spares re-embedding unchanged chunk texts
        shutil.copy(seed, root / "indexes" / seed.name)
    settings = Settings(metrics_path=root / "metrics.csv", index_dir=root / "indexes",
                        feedback_db=root / "feedback.sqlite3", chroma_url=server.url)
    b = Chatbot(settings)
    assert b.wait_ready(timeout=300), b._dense_error
    return b


def test_ensure_index_builds_then_reuses_the_server_collection(server, bot):
    from chatbot.index import digest, ensure_index, expected_manifest, http_client

    corpus = bot.corpus
    messages: list[str] = []
    store, what = ensure_index(bot.settings, corpus.chunks, corpus.metrics_sha, messages.append)
    assert what == "server" and store.where == server.url
    assert messages == [], "a complete collection is reused, not rebuilt"
    assert store.count() == len(corpus.chunks)
    manifest = expected_manifest(bot.settings, corpus.metrics_sha, len(corpus.chunks))
    names = [c.name for c in http_client(server.url).list_collections()]
    assert f"{bot.settings.collection}-{digest(manifest)}" in names
    assert not (Path(bot.settings.index_dir) / "current").exists(), "no embedded index in server mode"


def test_labelled_retrieval_against_the_server(bot):
    items = load_retrieval_items(ROOT / "eval" / "retrieval.jsonl")
    s = retrieval_scores(items, lambda q: bot.search(q, 5))
    assert s["recall_at_k"] >= MIN_RECALL_AT_5, (s["recall_at_k"], s["misses"])
    assert s["mrr"] >= MIN_MRR, s["mrr"]
    dense = retrieval_scores(items, lambda q: bot.search(q, 5, mode="dense"))
    assert dense["ranks"] and dense["recall_at_k"] > 0.8, "dense results come from the server"


def test_stopped_server_is_a_clear_error_and_a_restart_recovers(server, bot):
    top = bot.search(QUESTION, 3, mode="dense")
    assert "talent-earnings-average-salary" in [h.chunk.chunk_id for h in top]
    server.stop()
    try:
        with pytest.raises(ServerUnavailableError) as err:
            bot.search(QUESTION, 3, mode="dense")
        assert server.url in str(err.value) and "chroma run" in str(err.value)
        hits = bot.search("How many FDI jobs were there?", 3)  # hybrid falls back to BM25
        assert hits and bot.search_notices() == [KEYWORD_ONLY_NOTICE]
    finally:
        server.start()  # same port, same data folder
    again = bot.search(QUESTION, 3, mode="dense")
    assert [h.chunk.chunk_id for h in again] == [h.chunk.chunk_id for h in top]
    assert bot.search("How many FDI jobs were there?", 1)[0].chunk.chunk_id == (
        "investment-fdi-jobs-2017-2021")
