"""Chroma server mode, round two (issue 14, item 5).

Before: a server restarted empty (without the collection) left the running app raising on every
prose question, and ``chatbot build`` (what the error said to run) did not help; a server that
accepted connections but never answered blocked each ask for more than 90 s. Here a real
``chroma run`` is restarted empty, and a fake server accepts connections and never replies.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import env_of, private_settings

from chatbot import Chatbot
from chatbot.cli import cli
from chatbot.index import digest, expected_manifest, http_client
from chatbot.retrieve import KEYWORD_ONLY_NOTICE

pytestmark = pytest.mark.slow

PROSE_Q = "What does the snapshot say about NHS procurement?"
SALARY_Q = "What is the average salary?"
SALARY = "£34,131"


def _collection(bot: Chatbot) -> str:
    manifest = expected_manifest(bot.settings, bot.corpus.metrics_sha, len(bot.corpus.chunks))
    return f"{bot.settings.collection}-{digest(manifest)}"


def _restart_empty(server) -> None:
    server.stop()
    shutil.rmtree(server.path)
    server.start()


def test_server_restarted_empty_gets_its_collection_back(chroma_server, tmp_path):
    bot = Chatbot(private_settings(tmp_path / "w", chroma_url=chroma_server.url))
    assert bot.wait_ready(120), bot._dense_error
    assert not bot.conversation().ask(PROSE_Q).notices
    _restart_empty(chroma_server)
    names = [c.name for c in http_client(chroma_server.url).list_collections()]
    assert names == []
    ans = bot.conversation().ask(PROSE_Q)  # the running app, not restarted
    assert ans.kind == "prose" and ans.answered and not ans.notices, ans.notices
    assert "procurement" in ans.text.lower()
    assert _collection(bot) in [c.name for c in http_client(chroma_server.url).list_collections()]


def test_build_after_an_empty_restart_serves_the_running_app(chroma_server, tmp_path):
    s = private_settings(tmp_path / "w", chroma_url=chroma_server.url)
    bot = Chatbot(s)
    assert bot.wait_ready(120), bot._dense_error
    _restart_empty(chroma_server)
    res = CliRunner().invoke(cli, ["build", "--quiet"], env=env_of(s))
    assert res.exit_code == 0, res.output
    ans = bot.conversation().ask(PROSE_Q)
    assert ans.answered and not ans.notices, ans.notices
    assert [c.name for c in http_client(chroma_server.url).list_collections()] == [_collection(bot)]


class SilentServer:
    """Accepts TCP connections and never answers (a hung server, or a firewall that eats
    replies)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent():
    srv = SilentServer()
    yield srv
    srv.close()


def test_server_that_never_answers_times_out_to_keyword_search(silent, tmp_path):
    s = private_settings(tmp_path / "w", chroma_url=silent.url, chroma_timeout=1.0)
    t0 = time.perf_counter()
    bot = Chatbot(s)
    conv = bot.conversation()
    ans = conv.ask(PROSE_Q)
    first = time.perf_counter() - t0
    assert ans.kind == "prose" and ans.answered and ans.notices == [KEYWORD_ONLY_NOTICE]
    assert silent.url not in ans.text + " ".join(ans.notices)
    t1 = time.perf_counter()
    again = conv.ask(PROSE_Q)  # each ask waits one timeout at most
    assert again.notices == [KEYWORD_ONLY_NOTICE] and time.perf_counter() - t1 < 5
    assert SALARY in conv.ask(SALARY_Q).text  # figures never wait for the index
    assert first < 10, f"first answer took {first:.1f} s"
    print(f"\nsilent server: first prose answer after {first:.1f} s, then "
          f"{time.perf_counter() - t1:.1f} s (timeout 1 s)")
    assert len(silent.held) >= 2  # it really connected


def test_cli_against_a_silent_server_answers_or_says_why(silent, tmp_path):
    s = private_settings(tmp_path / "w", chroma_url=silent.url, chroma_timeout=1.0)
    exe = str(Path(sys.executable).parent / "chatbot")
    env = {**__import__("os").environ, **env_of(s)}
    t0 = time.perf_counter()
    ask = subprocess.run([exe, "ask", PROSE_Q], env=env, capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - t0
    assert ask.returncode == 0 and f"Note: {KEYWORD_ONLY_NOTICE}" in ask.stdout, ask.stderr[-2000:]
    assert "did not answer within 1 s" in ask.stderr and "Traceback" not in ask.stderr
    build = subprocess.run([exe, "build", "--quiet"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert build.returncode == 1 and build.stderr.startswith("Error: "), build.stderr[-2000:]
    assert "did not answer within 1 s" in build.stderr and "CHATBOT_CHROMA_TIMEOUT" in build.stderr
    assert took < 30, took
