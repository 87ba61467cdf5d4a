"""Errors in words everywhere (issue 14, item 8).

Before: a folder as ``CHATBOT_METRICS``, a full disk ("database or disk is full") and
``PYTHONIOENCODING=latin-1`` gave raw tracebacks; the app showed readers file paths, errno
text and the Chroma server URL; "rebuilding the index" was printed twice. A full disk is real
here: a 128 kB tmpfs mounted in a private mount namespace (``unshare -m``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import env_of, free_port, private_settings
from streamlit.testing.v1 import AppTest

from chatbot.errors import ChatbotError, CorpusError, FeedbackError, IndexStoreError
from chatbot.export import escape_markdown
from chatbot.retrieve import KEYWORD_ONLY_NOTICE
from chatbot.settings import ROOT

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
FULL_DISK = 'mount -t tmpfs -o size=128k tmpfs "$0" && exec "$@"'
PROSE_Q = "What does the snapshot say about NHS procurement?"
#: What a reader must never see: file paths, errno text, server addresses, tracebacks.
LEAKS = re.compile(r"/tmp/|/work/|\.sqlite3|\.csv|Errno|errno|http://|127\.0\.0\.1|Traceback|"
                   r"No such file|Permission denied|Is a directory", re.I)


def _run(args: list[str], env: dict[str, str], encoding: str = "utf-8") -> subprocess.CompletedProcess:
    return subprocess.run(args, env=os.environ | env, capture_output=True, encoding=encoding,
                          timeout=300)


def _says_error(res: subprocess.CompletedProcess, *words: str) -> None:
    assert res.returncode == 1, (res.returncode, res.stdout[-500:], res.stderr[-2000:])
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    for w in words:
        assert w in errors[0], errors[0]


def test_a_folder_as_metrics_path(tmp_path):
    s = private_settings(tmp_path / "w", dense=False)
    env = env_of(s, CHATBOT_METRICS=str(tmp_path))
    for cmd in (["metrics"], ["build", "--quiet"]):
        _says_error(_run([str(BIN / "chatbot"), *cmd], env), "CHATBOT_METRICS points at a folder")
    ask = _run([str(BIN / "chatbot"), "ask", "What is the average salary?"], env)
    assert ask.returncode == 0 and "£34,131" in ask.stdout  # answers come from the corpus
    assert "Warning: CHATBOT_METRICS points at a folder" in ask.stderr


def test_full_disk_for_the_index_and_the_metrics_table(tmp_path):
    s = private_settings(tmp_path / "w")
    disk = tmp_path / "disk"
    disk.mkdir()
    build = [str(BIN / "chatbot"), "build", "--quiet"]
    # 1 MB: room for the embedding cache (so no model is loaded), not for the Chroma files.
    cache = Path(s.index_dir) / "embedding-cache.json"
    fill = (f'mount -t tmpfs -o size=1m tmpfs "$0" && mkdir "$0/indexes" && cp {cache} "$0/indexes/" '
            '&& exec "$@"')
    res = _run(["unshare", "-m", "sh", "-c", fill, str(disk), *build],
               env_of(s, CHATBOT_INDEX_DIR=str(disk / "indexes")))
    _says_error(res, "could not write the index", "free some space")
    assert "database or disk is full" in res.stderr or "No space left" in res.stderr
    res = _run(["unshare", "-m", "sh", "-c", FULL_DISK, str(disk), "sh", "-c",
                f'head -c 200000 /dev/zero > {disk}/filler; exec "$@"', "sh", *build],
               env_of(s, CHATBOT_METRICS=str(disk / "metrics.csv")))
    _says_error(res, "could not write", "No space left on device", "CHATBOT_METRICS")


def test_full_disk_for_feedback_is_an_error_in_words(tmp_path):
    code = ("import sys\n"
            "from chatbot.feedback import FeedbackRecord, FeedbackStore\n"
            "from chatbot.errors import FeedbackError\n"
            "store = FeedbackStore(sys.argv[1] + '/feedback.sqlite3')\n"
            "try:\n"
            "    for _ in range(10_000):\n"
            "        store.add(FeedbackRecord(question='q' * 500, answer='a' * 2000, comment='c' * 900))\n"
            "except FeedbackError as exc:\n"
            "    print(exc)\n")
    disk = tmp_path / "disk"
    disk.mkdir()
    res = _run(["unshare", "-m", "sh", "-c", FULL_DISK, str(disk), sys.executable, "-c", code,
                str(disk)], {})
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "database or disk is full" in res.stdout and "free some space" in res.stdout, res.stdout
    assert not LEAKS.search(FeedbackError.for_readers)


def test_latin1_terminal_gets_answers_not_tracebacks(tmp_path):
    s = private_settings(tmp_path / "w", dense=False)
    env = env_of(s, PYTHONIOENCODING="latin-1")
    res = _run([str(BIN / "chatbot"), "ask", "How many more DDI jobs than FDI jobs?"], env, "latin-1")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "2,432" in res.stdout and "?" in res.stdout  # "–" and "−" shown as "?"
    assert "Investment Ecosystem · Wavteq 2022" in res.stdout  # what latin-1 has, it shows
    res = _run([str(BIN / "chatbot"), "metrics"], env, "latin-1")
    assert res.returncode == 0 and "£34,131" in res.stdout, res.stderr[-2000:]


def test_rebuilding_the_index_is_said_once(tmp_path):
    s = private_settings(tmp_path / "w")
    res = _run([str(BIN / "chatbot"), "build"], env_of(s))
    assert res.returncode == 0 and res.stderr.count("rebuilding the index") == 1, res.stderr
    current = Path(s.index_dir) / "current"
    os.unlink(current)
    res = _run([str(BIN / "chatbot"), "ask", PROSE_Q], env_of(s))
    assert res.returncode == 0 and res.stderr.count("rebuilding the index") == 1, res.stderr


def test_error_messages_for_readers_name_no_paths():
    for cls in (ChatbotError, CorpusError, IndexStoreError, FeedbackError):
        assert not LEAKS.search(cls.for_readers) and cls.for_readers.endswith(".")


def _page_text(at: AppTest) -> str:
    parts = [e.value for e in at.error] + [m.value for m in at.markdown] + \
            [c.value for c in at.caption] + [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


@pytest.fixture
def app_env(monkeypatch, tmp_path):
    def setup(**env: str) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return setup


def test_app_shows_no_path_when_the_corpus_is_missing(app_env, tmp_path):
    app_env(CHATBOT_CORPUS=str(tmp_path / "missing" / "snapshot.txt"), CHATBOT_DENSE="0",
            CHATBOT_INDEX_DIR=str(tmp_path / "ix"), CHATBOT_METRICS=str(tmp_path / "m.csv"))
    at = AppTest.from_file(str(ROOT / "chatbot" / "app.py"), default_timeout=120).run()
    assert [e.value for e in at.error] == [CorpusError.for_readers]
    assert not LEAKS.search(_page_text(at)), _page_text(at)


def test_app_shows_no_server_url_or_path_when_things_fail(app_env, tmp_path):
    s = private_settings(tmp_path / "w", chroma_url=f"http://127.0.0.1:{free_port()}",
                         chroma_timeout=1.0)
    feedback_dir = tmp_path / "feedback-is-a-folder"
    feedback_dir.mkdir()
    app_env(**env_of(s, CHATBOT_FEEDBACK_DB=str(feedback_dir)))
    at = AppTest.from_file(str(ROOT / "chatbot" / "app.py"), default_timeout=120).run()
    at.chat_input[0].set_value(PROSE_Q).run()
    page = _page_text(at)
    assert escape_markdown(KEYWORD_ONLY_NOTICE) in page and "procurement" in page.lower()
    at.feedback[0].set_value(1).run()  # the feedback store cannot be opened
    assert [e.value for e in at.error] == [FeedbackError.for_readers]
    assert not LEAKS.search(_page_text(at)), _page_text(at)
