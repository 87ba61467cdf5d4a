"""The Streamlit app driven by AppTest against the real engine: what a reader sees.

The engine is cached with ``st.cache_resource`` and so built once for the whole module; one
conversation (seven app runs) is played in a module fixture and the tests read what it showed.
"""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from chatbot.export import escape_markdown
from chatbot.feedback import FeedbackStore
from chatbot.settings import ROOT

pytestmark = pytest.mark.slow

APP = str(ROOT / "chatbot" / "app.py")
SALARY_Q = "What is the average salary?"
FOLLOW_UP_Q = "How does that compare nationally?"
UNANSWERABLE_Q = "What is the population of Birmingham?"
SCRIPT_Q = "<script>alert(1)</script>"


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    # nothing anywhere may render raw HTML
    assert not any(m.proto.allow_html for m in at.markdown)
    return at


def _seen(at: AppTest) -> list[dict]:
    """Every chat message as plain strings: what the reader sees."""
    out = []
    for m in at.chat_message:
        out.append({
            "role": m.name,
            "markdown": [x.value for x in m.markdown],
            "info": [x.value for x in m.info],
            "captions": [x.value for x in m.caption],
            "cards": [(e.label, " ".join(x.value for x in e.markdown)) for e in m.expander],
        })
    return out


@pytest.fixture(scope="module")
def feedback_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("app") / "feedback.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHATBOT_FEEDBACK_DB", str(path))
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield path


@pytest.fixture(scope="module")
def played(feedback_db):
    """One conversation: first screen, salary, feedback (+ comment), follow-up, unanswerable,
    a script tag. Returns what each step showed."""
    at = _ok(_app().run())
    steps = {"start_buttons": [b.label for b in at.button]}
    _ok(at.chat_input[0].set_value(SALARY_Q).run())
    steps["salary"] = _seen(at)
    at.feedback[0].set_value(1).run()
    steps["after_rating"] = FeedbackStore(feedback_db).all()
    comment = next(t for t in at.text_input if t.label.startswith("Comment"))
    _ok(comment.set_value("Exact figure, thanks").run())
    steps["after_comment"] = FeedbackStore(feedback_db).all()
    _ok(at.chat_input[0].set_value(FOLLOW_UP_Q).run())
    steps["follow_up"] = _seen(at)
    _ok(at.chat_input[0].set_value(UNANSWERABLE_Q).run())
    steps["unanswerable"] = _seen(at)
    _ok(at.chat_input[0].set_value(SCRIPT_Q).run())
    steps["script"] = _seen(at)
    return steps


def test_first_screen_offers_starter_questions(played):
    assert SALARY_Q in played["start_buttons"]
    assert "New conversation" in played["start_buttons"]


def test_figure_question_shows_the_figure_and_a_source_card(played):
    user, answer = played["salary"]
    assert user["role"] == "user" and user["markdown"] == [SALARY_Q]
    assert answer["role"] == "assistant"
    assert "£34,131" in answer["markdown"][0]
    assert not answer["info"]
    labels = [label for label, _body in answer["cards"]]
    assert any("ONS ASHE" in label for label in labels), labels
    body = next(b for label, b in answer["cards"] if "ONS ASHE" in label)
    assert "**£34,131**" in body  # the figure highlighted inside the verbatim quote
    assert "Talent Ecosystem" in body


def test_follow_up_uses_the_history(played):
    msgs = played["follow_up"]
    assert [m["role"] for m in msgs] == ["user", "assistant"] * 2
    answer = msgs[-1]
    assert "£46,894" in answer["markdown"][0], answer["markdown"][0]
    assert answer["cards"]


def test_unanswerable_question_shows_the_not_found_box(played):
    answer = played["unanswerable"][-1]
    assert answer["info"], answer
    info = answer["info"][0]
    assert info.startswith("**Not in the snapshot.**")
    assert not re.search(r"\d", info), info  # no figure offered as if it were the answer
    assert not any("£34,131" in m for m in answer["markdown"])


def test_feedback_is_written_to_sqlite(played):
    rated = played["after_rating"]
    assert len(rated) == 1
    rec = rated[0]
    assert rec.question == SALARY_Q and rec.rating == 1 and rec.comment == ""
    assert "£34,131" in rec.answer and rec.session_id and rec.answer_id and rec.created_at
    assert any(c["source"] == "ONS ASHE 2021" for c in json.loads(rec.citations))
    commented = played["after_comment"]
    assert len(commented) == 2
    assert commented[-1].comment == "Exact figure, thanks" and commented[-1].rating == 1
    assert commented[-1].answer_id == rec.answer_id


def test_script_question_is_shown_as_text(played):
    user = played["script"][-2]
    assert user["role"] == "user"
    # escaped Markdown: the browser shows the literal characters, never a <script> element
    assert user["markdown"] == [escape_markdown(SCRIPT_Q)]
    assert r"\<script\>" in user["markdown"][0]


def test_explorer_filters_and_about_panel(feedback_db):
    at = _ok(_app().run())
    full = len(at.dataframe[0].value)
    assert full >= 50
    _ok(at.multiselect(key="filter-section").set_value(["Talent Ecosystem"]).run())
    talent = at.dataframe[0].value
    assert 0 < len(talent) < full and set(talent["section"]) == {"Talent Ecosystem"}
    _ok(at.text_input(key="filter-text").set_value("salary").run())
    salary = at.dataframe[0].value
    assert 0 < len(salary) < len(talent) and "£34,131" in set(salary["display"])
    about = " ".join(m.value for m in at.tabs[2].markdown)
    assert "May 2023" in about and "65 local authorities" in about
    assert "Midlands Engine Observatory" in about and "ONS ASHE 2021" in about
    assert "North Lincolnshire" in about and "underestimated" in about


def test_starter_button_and_new_conversation(feedback_db):
    at = _ok(_app().run())
    _ok(at.button(key="starter-0").click().run())
    seen = _seen(at)
    assert seen[0]["markdown"] == [SALARY_Q]  # the first starter
    assert [m["role"] for m in seen] == ["user", "assistant"]
    assert "£34,131" in seen[1]["markdown"][0]
    assert not [b for b in at.button if b.key and b.key.startswith("starter-")]
    _ok(next(b for b in at.button if b.label == "New conversation").click().run())
    assert not at.chat_message
    assert [b for b in at.button if b.key and b.key.startswith("starter-")]


def test_load_failure_is_a_plain_message(feedback_db, monkeypatch, tmp_path):
    monkeypatch.setenv("CHATBOT_CORPUS", str(tmp_path / "missing.txt"))
    at = _app().run()
    assert not at.exception
    assert at.error and "could not be loaded" in at.error[0].value
    assert "Traceback" not in at.error[0].value
