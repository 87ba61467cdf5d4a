"""Conversation store: turns survive a reload, earlier conversations are listed, the file is the
feedback file, and a damaged or unknown record never hides the rest."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from chatbot import history
from chatbot.feedback import FeedbackRecord, FeedbackStore
from chatbot.history import ConversationStore, HistoryError
from chatbot.records import Answer, Citation

SALARY = Citation(number=1, source="ONS ASHE 2021", section="Talent Ecosystem",
                  quote="Earnings: Average salary £34,131 National average £46,894", metric_id="talent-earnings-average-salary",
                  chunk_id="talent-earnings-average-salary", highlight="£34,131")


def _answer(text: str = "The average salary is **£34,131** [1].") -> Answer:
    return Answer(text=text, answered=True, citations=[SALARY], kind="figure",
                  metric_ids=["talent-earnings-average-salary"], suggestions=["And nationally?"],
                  retrieved=["a", "b"], calculations=["1 + 1 = 2"])


def _reply(**extra) -> dict:
    return {"role": "assistant", "id": "m1", "content": "", "answer": _answer(), **extra}


def test_a_conversation_comes_back_as_it_was_shown(tmp_path):
    store = ConversationStore(tmp_path / "feedback.sqlite3")
    cid = history.new_id()
    store.add_turn(cid, "What is the average salary?", _reply())
    store.add_turn(cid, "lorem … (5,000 characters)", _reply(id="m2", asked="And nationally?",
                                                              notice="Your message had 5,000 characters"))
    store.add_turn(cid, "x" * 3000, {"role": "assistant", "id": "m3", "refusal": "Too long."})
    msgs = store.messages(cid)
    assert [m["role"] for m in msgs] == ["user", "assistant"] * 3
    assert msgs[0]["content"] == "What is the average salary?"
    first = msgs[1]
    assert first["id"] == "m1" and first["answer"].citations == [SALARY]
    assert first["answer"].text == _answer().text and first["content"] == _answer().text
    assert first["answer"].suggestions == ["And nationally?"] and first["answer"].retrieved == []
    assert msgs[3]["asked"] == "And nationally?" and msgs[3]["notice"].startswith("Your message")
    assert msgs[5]["refusal"] == "Too long." and "answer" not in msgs[5]
    assert history.asked_questions(msgs, 10) == ["What is the average salary?", "And nationally?"]
    assert history.asked_questions(msgs, 1) == ["And nationally?"]


def test_earlier_conversations_are_listed_newest_first(tmp_path):
    store = ConversationStore(tmp_path / "f.sqlite3")
    a, b = history.new_id(), history.new_id()
    store.add_turn(a, "What is the average salary?   with   spaces", _reply())
    store.add_turn(b, "Compare FDI and DDI " + "jobs " * 30, _reply())
    store.add_turn(b, "And projects?", _reply())
    recent = store.recent()
    assert [s.id for s in recent] == [b, a]
    assert recent[0].turns == 2 and recent[1].turns == 1
    assert recent[1].title == "What is the average salary? with spaces"
    assert len(recent[0].title) == history.TITLE_CHARS and recent[0].title.endswith("…")
    assert recent[0].when  # "1 Dec 09:12"
    assert store.messages(history.new_id()) == []  # unknown: a new, empty conversation


def test_it_shares_the_feedback_file(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).add(FeedbackRecord(question="q", answer="a", rating=1))
    ConversationStore(path).add_turn(history.new_id(), "q", _reply())
    with sqlite3.connect(path) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"feedback", "conversations", "turns"} <= tables
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert FeedbackStore(path).count() == 1


@pytest.mark.parametrize("bad", ["", "../x", "g" * 32, "0" * 31, None, 5, "A" * 32])
def test_only_ids_it_made_are_accepted(tmp_path, bad):
    store = ConversationStore(tmp_path / "f.sqlite3")
    assert not history.valid_id(bad)
    assert store.messages(bad) == []
    with pytest.raises(HistoryError):
        store.add_turn(bad, "q", _reply())


def test_a_damaged_row_does_not_hide_the_others(tmp_path):
    path = tmp_path / "f.sqlite3"
    store = ConversationStore(path)
    cid = history.new_id()
    store.add_turn(cid, "first", _reply())
    store.add_turn(cid, "second", _reply())
    with sqlite3.connect(path) as con:
        con.execute("UPDATE turns SET reply = '{not json' WHERE question = 'first'")
    msgs = store.messages(cid)
    assert len(msgs) == 4 and "could not be read back" in msgs[1]["error"]
    assert msgs[3]["answer"].text == _answer().text


def test_answers_from_an_older_or_newer_engine_still_open():
    data = _answer().to_dict() | {"a_field_from_the_future": 1}
    data["citations"][0]["another"] = "x"
    del data["suggestions"]
    ans = history.answer_from_dict(data)
    assert ans.citations == [SALARY] and ans.suggestions == []


def test_a_folder_as_the_file_is_a_history_error_in_words(tmp_path):
    store = ConversationStore(tmp_path)
    with pytest.raises(HistoryError) as err:
        store.add_turn(history.new_id(), "q", _reply())
    assert "conversation store" in str(err.value)
    assert "reload" in HistoryError.for_readers and str(tmp_path) not in HistoryError.for_readers


def test_many_sessions_write_at_once(tmp_path):
    store = ConversationStore(tmp_path / "f.sqlite3")
    ids = [history.new_id() for _ in range(8)]

    def play(cid: str) -> None:
        for i in range(10):
            ConversationStore(store.path).add_turn(cid, f"q{i}", _reply(id=f"{cid}-{i}"))

    threads = [threading.Thread(target=play, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for cid in ids:
        assert [m["content"] for m in store.messages(cid) if m["role"] == "user"] == [f"q{i}" for i in range(10)]
    assert len(store.recent(limit=100)) == 8
