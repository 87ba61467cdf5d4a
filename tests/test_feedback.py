"""Feedback store: round trip, many threads and processes at once, a writer killed mid-way."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chatbot.errors import FeedbackError
from chatbot.feedback import FeedbackRecord, FeedbackStore
from chatbot.records import Answer, Citation
from chatbot.settings import ROOT

WRITER = """
import sys
from chatbot.feedback import FeedbackRecord, FeedbackStore
store = FeedbackStore(sys.argv[1])
tag, n = sys.argv[2], int(sys.argv[3])
for i in range(n):
    store.add(FeedbackRecord(question=f"{tag}-{i}", answer="a" * 2000, rating=i % 2, comment=tag))
    print(i, flush=True)  # printed only after the commit returned
"""


def _writer(path: Path, tag: str, n: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, str(n)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


def test_round_trip(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    assert store.count() == 0 and store.all() == []
    rec = FeedbackRecord(question="What is the average salary?", answer="**£34,131** [1]",
                         citations='[{"number": 1}]', rating=1, comment="exact, thanks",
                         session_id="s1", answer_id="a1")
    assert store.add(rec) == 1
    store.add(FeedbackRecord(question="q2", answer="x", rating=0))
    assert store.count() == 2
    assert store.all()[0] == rec
    assert [r.rating for r in store.all()] == [1, 0]
    with sqlite3.connect(store.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_record_for_answer_keeps_citations_as_json():
    cite = Citation(number=1, source="ONS ASHE 2021", section="Talent Ecosystem",
                    quote="Average salary £34,131", metric_id="talent-earnings-average-salary",
                    highlight="£34,131")
    ans = Answer(text="**£34,131** [1]", answered=True, citations=[cite], kind="figure")
    rec = FeedbackRecord.for_answer("What is the average salary?", ans, 0, "too short", "s", "a")
    assert rec.answer == ans.text and rec.rating == 0 and rec.comment == "too short"
    assert json.loads(rec.citations)[0]["source"] == "ONS ASHE 2021"
    assert rec.citation_list()[0]["quote"] == "Average salary £34,131"


def test_bad_rating_and_unwritable_path_raise_feedback_error(tmp_path):
    with pytest.raises(FeedbackError, match="rating"):
        FeedbackStore(tmp_path / "f.sqlite3").add(FeedbackRecord(question="q", answer="a", rating=5))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(FeedbackError, match="CHATBOT_FEEDBACK_DB"):
        FeedbackStore(blocker / "feedback.sqlite3").add(FeedbackRecord(question="q", answer="a"))


def test_twenty_threads_fifty_records_each(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def work(t: int) -> None:
        store = FeedbackStore(path)  # its own store object: set-up races as well as writes
        start.wait()
        try:
            for i in range(50):
                store.add(FeedbackRecord(question=f"t{t}-{i}", answer="a", rating=i % 2,
                                         session_id=f"t{t}"))
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    store = FeedbackStore(path)
    assert store.count() == 1000
    assert {r.question for r in store.all()} == {f"t{t}-{i}" for t in range(20) for i in range(50)}


def test_several_processes_write_at_once(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    procs = [_writer(path, f"p{p}", 40) for p in range(3)]
    for p in procs:
        p.communicate(timeout=120)
        assert p.returncode == 0
    assert FeedbackStore(path).count() == 120


def test_writer_killed_mid_way_leaves_every_committed_record(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    proc = _writer(path, "killed", 100_000)
    committed = -1
    deadline = time.monotonic() + 60
    try:
        while committed < 200 and time.monotonic() < deadline:
            committed = int(proc.stdout.readline())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert committed >= 200
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = FeedbackStore(path)
    questions = [r.question for r in store.all()]
    # Every record whose commit returned is there, in order, and nothing half-written.
    assert questions[: committed + 1] == [f"killed-{i}" for i in range(committed + 1)]
    assert questions == [f"killed-{i}" for i in range(len(questions))]
    store.add(FeedbackRecord(question="after", answer="a"))  # the file still takes writes
    assert store.count() == len(questions) + 1


def test_lone_surrogates_and_huge_comments_are_stored_bounded(tmp_path):
    """Issue 14: a lone surrogate in a record raised ``UnicodeEncodeError``; a 10 MB comment
    was stored whole."""
    from chatbot.inputs import MAX_COMMENT_CHARS, MAX_RECORD_CHARS

    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add(FeedbackRecord(question="sal\ud800ary?", answer="£34,131 \udfff", citations="[]",
                             rating=1, comment="wrong\ud83d figure", session_id="s\udc80"))
    store.add(FeedbackRecord(question="q" * 5_000_000, answer="a", comment="c" * 10_000_000))
    first, second = store.all()
    assert (first.question, first.answer, first.comment, first.session_id) == (
        "sal?ary?", "£34,131 ?", "wrong figure", "s?")
    assert len(second.comment) == MAX_COMMENT_CHARS and len(second.question) == MAX_RECORD_CHARS
    assert store.path.stat().st_size < 1_000_000
