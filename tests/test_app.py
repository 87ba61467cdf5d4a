"""The Streamlit app driven by AppTest against the real engine: what a reader sees (fast checks;
the real browser is ``test_browser.py``).

The engine is cached with ``st.cache_resource`` and so built once for the whole module. One
conversation is played in a module fixture — a starter, feedback, a suggestion, a follow-up, a
comparison, an out-of-scope question, a script tag, an empty message, two long pastes — then
the page is "reloaded" (a new session with the same ``?c=``) and a new conversation started.
"""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from chatbot import chatbox
from chatbot.export import question_markdown
from chatbot.feedback import FeedbackStore
from chatbot.history import ConversationStore
from chatbot.settings import ROOT

pytestmark = pytest.mark.slow

APP = str(ROOT / "chatbot" / "app.py")
STARTER = chatbox.STARTERS[0][1]  # "What is the average salary in the cluster?"
FOLLOW_UP_Q = "How does that compare nationally?"
COMPARE_Q = "Compare FDI and DDI jobs"
UNANSWERABLE_Q = "What is the population of Birmingham?"
SCRIPT_Q = "<script>alert(1)</script> see www.example.com"
LONG_Q = "What share of UK DDI jobs are in the Midlands?"
LONG_PASTE = "Minutes of the regional meeting. " * 160 + LONG_Q
LONG_NO_QUESTION = "lorem ipsum " * 400


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not any(m.proto.allow_html for m in at.markdown)  # nothing renders raw HTML
    assert not at.get("html")  # no HTML of its own, not even a script
    return at


def _seen(at: AppTest) -> list[dict]:
    """Every chat message as plain strings: what the reader sees."""
    return [{
        "role": m.name,
        "markdown": [x.value for x in m.markdown],
        "info": [x.value for x in m.info],
        "warning": [x.value for x in m.warning],
        "captions": [x.value for x in m.caption],
        "cards": [(e.label, " ".join(x.value for x in e.markdown), [c.value for c in e.code])
                  for e in m.expander],
        "anchors": [(h.value, h.proto.anchor) for e in m.expander for h in e.subheader],
        "charts": [c.proto.alt for c in m.get("vega_lite_chart")],
        "buttons": [b.label for b in m.button],
    } for m in at.chat_message]


def _ask(at: AppTest, text: str) -> list[dict]:
    _ok(at.chat_input[0].set_value(text).run())
    return _seen(at)


@pytest.fixture(scope="module")
def feedback_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("app") / "feedback.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHATBOT_FEEDBACK_DB", str(path))
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield path


@pytest.fixture(scope="module")
def played(feedback_db):
    at = _ok(_app().run())
    steps: dict = {"first": _seen(at), "placeholder": at.chat_input[0].proto.placeholder,
                   "cid": at.query_params["c"]}
    _ok(at.button(key="starter-0").click().run())
    steps["starter"] = _seen(at)
    at.feedback[0].set_value(1).run()
    comment = next(t for t in at.text_input if t.label.startswith("Comment"))
    _ok(comment.set_value("Exact figure, thanks").run())
    steps["feedback"] = FeedbackStore(feedback_db).all()
    suggestion = next(b for b in at.button if (b.key or "").startswith("suggest-"))
    steps["suggestion"] = suggestion.label
    _ok(suggestion.click().run())
    steps["after_suggestion"] = _seen(at)
    steps["follow_up"] = _ask(at, FOLLOW_UP_Q)
    steps["compare"] = _ask(at, COMPARE_Q)
    steps["unanswerable"] = _ask(at, UNANSWERABLE_Q)
    steps["script"] = _ask(at, SCRIPT_Q)
    steps["empty"] = _ask(at, "  \n ")
    steps["toasts"] = [t.value for t in at.toast]
    steps["long"] = _ask(at, LONG_PASTE)
    steps["refused"] = _ask(at, LONG_NO_QUESTION)
    steps["stored"] = ConversationStore(feedback_db).messages(steps["cid"])

    reloaded = _app()
    reloaded.query_params["c"] = steps["cid"]
    _ok(reloaded.run())
    steps["reloaded"] = _seen(reloaded)
    steps["after_reload"] = _ask(reloaded, "Where does that figure come from?")
    _ok(next(b for b in reloaded.sidebar.button if b.label == "New conversation").click().run())
    steps["new"] = _seen(reloaded)
    steps["new_cid"] = reloaded.query_params["c"]
    steps["sidebar"] = [(b.key, b.label) for b in reloaded.sidebar.button]
    _ok(reloaded.sidebar.button(key=f"open-{steps['cid']}").click().run())
    steps["reopened"] = _seen(reloaded)
    return steps


def test_first_screen_says_what_it_does_with_a_starter_of_each_kind(played):
    [welcome] = played["first"]
    assert welcome["role"] == "assistant" and "I answer questions about" in welcome["markdown"][0]
    assert "foreign and domestic" in welcome["markdown"][0]
    assert len(welcome["buttons"]) == len(chatbox.STARTERS) == 5
    assert played["placeholder"] == "Ask about the snapshot (up to 2,000 characters)"


def test_a_starter_asks_its_question_and_the_answer_links_its_card(played):
    user, answer = played["starter"]
    assert user["markdown"] == [question_markdown(STARTER)]
    assert "£34,131" in answer["markdown"][0] and not answer["info"]
    marker = re.search(r"\[\\\[1\\\]\]\(#(card-[0-9a-f]+-1)\)", answer["markdown"][0])
    assert marker, answer["markdown"][0]
    assert answer["anchors"] == [("£34,131", marker.group(1))]  # the link's target, in card 1
    title, body, copy = answer["cards"][0]
    assert title == r"\[1\] Average salary — £34,131 · ONS ASHE 2021"
    assert ":yellow-background[**£34,131**]" in body and "National average £46,894" in body
    assert copy == ["£34,131 — Average salary (ONS ASHE 2021): Earnings: Average salary £34,131 National "
                    "average £46,894 (27.2% lower in Midlands).²"]


def test_suggestions_are_buttons_that_ask_them(played):
    answer = played["starter"][-1]
    assert played["suggestion"] in answer["buttons"] and len(answer["buttons"]) >= 2
    user = played["after_suggestion"][-2]
    assert user["markdown"] == [question_markdown(played["suggestion"])]
    assert played["after_suggestion"][-1]["markdown"]  # answered
    # only the latest answer offers suggestions: an older one's would miss its context
    assert played["after_suggestion"][1]["buttons"] == []


def test_feedback_is_written_with_the_conversation_id(played):
    first, second = played["feedback"]
    assert first.question == STARTER and first.rating == 1 and "£34,131" in first.answer
    assert first.session_id == played["cid"]
    assert any(c["source"] == "ONS ASHE 2021" for c in json.loads(first.citations))
    assert second.comment == "Exact figure, thanks" and second.answer_id == first.answer_id


def test_follow_up_uses_the_history(played):
    answer = played["follow_up"][-1]
    assert re.search(r"27\.2%|£46,894", answer["markdown"][0]), answer["markdown"][0]


def test_a_comparison_gets_a_chart_with_its_figures(played):
    answer = played["compare"][-1]
    assert "3,321" in answer["markdown"][0] and "889" in answer["markdown"][0]
    assert answer["charts"] == ["Bar chart comparing DDI jobs: 3,321; FDI jobs: 889."]


def test_unanswerable_question_shows_the_not_found_box(played):
    answer = played["unanswerable"][-1]
    assert answer["info"] and answer["info"][0].startswith("**Not in the snapshot.**")
    said = answer["info"][0].split("The nearest figures")[0]
    assert not re.search(r"\d", said), said  # no figure offered as if it were the answer
    assert not answer["charts"]


def test_script_and_urls_are_shown_as_text(played):
    user = played["script"][-2]
    assert user["markdown"] == [question_markdown(SCRIPT_Q)]
    assert r"\<script\>" in user["markdown"][0] and "www\u2060" in user["markdown"][0]


def test_an_empty_message_is_not_sent(played):
    assert played["empty"] == played["script"]
    assert played["toasts"] == ["Type a question first: empty messages are not sent."]


def test_a_long_paste_is_answered_from_its_last_question(played):
    user, answer = played["long"][-2:]
    assert user["markdown"][0].endswith(f"\\({len(LONG_PASTE):,} characters\\)")
    assert any(f"{len(LONG_PASTE):,} characters" in c for c in answer["captions"])
    assert "17%" in answer["markdown"][0]
    assert answer["charts"]  # the share of the UK total


def test_a_long_paste_without_a_question_is_refused_in_words(played):
    answer = played["refused"][-1]
    assert answer["warning"] and "Nothing was sent" in answer["warning"][0]
    assert not answer["markdown"] and not answer["cards"]


def test_every_turn_is_stored(played):
    stored = played["stored"]
    assert len(stored) == len(played["refused"])
    assert stored[-1]["refusal"].startswith("Your message has")
    assert stored[1]["answer"].text == played["starter"][1]["markdown"][0].split(" [")[0] + " [1]."


def test_a_reload_brings_the_conversation_back(played):
    assert played["reloaded"] == played["refused"]
    # the engine replayed the earlier turns, so a follow-up still knows what "that" is
    assert "Wavteq" in played["after_reload"][-1]["markdown"][0]


def test_new_conversation_keeps_the_old_one_in_the_sidebar(played):
    assert [m["role"] for m in played["new"]] == ["assistant"]  # the welcome
    assert played["new_cid"] != played["cid"]
    keys = [k for k, _label in played["sidebar"]]
    assert f"open-{played['cid']}" in keys
    assert dict(played["sidebar"])[f"open-{played['cid']}"] == question_markdown(STARTER)
    assert played["reopened"][:len(played["refused"])] == played["refused"]


def test_explorer_columns_filters_charts_and_about(feedback_db):
    at = _ok(_app().run())
    table = at.dataframe[0].value
    assert list(table.columns)[:6] == ["label", "display", "unit", "period", "source", "quote"]
    full = len(table)
    charts_before = [c.proto.alt for c in at.tabs[1].get("vega_lite_chart")]
    _ok(at.multiselect(key="filter-section").set_value(["Investment Ecosystem"]).run())
    invest = at.dataframe[0].value
    assert 0 < len(invest) < full and set(at.dataframe[0].value["section"]) == {"Investment Ecosystem"}
    charts_after = [c.proto.alt for c in at.tabs[1].get("vega_lite_chart")]
    assert charts_after != charts_before and "Total cluster business count" not in charts_after[0]
    _ok(at.text_input(key="filter-text").set_value("jobs").run())
    jobs = [c.proto.alt for c in at.tabs[1].get("vega_lite_chart")]
    assert "Bar chart comparing FDI jobs: 889; DDI jobs: 3,321." in jobs
    assert not any("capex" in a for a in jobs)  # the charts follow the filters
    about = " ".join(m.value for m in at.tabs[2].markdown)
    assert "May 2023" in about and "65 local authorities" in about
    assert "**ONS ASHE 2021**: relevant sectors" in about and "**REF 2021**" in about
    assert "20%\\+ company growth" not in about  # a footnote that defines, not a source
    assert "North Lincolnshire" in about and "underestimated" in about


def test_load_failure_is_a_plain_message(feedback_db, monkeypatch, tmp_path):
    monkeypatch.setenv("CHATBOT_CORPUS", str(tmp_path / "missing.txt"))
    at = _app().run()
    assert not at.exception
    assert at.error and "could not be loaded" in at.error[0].value
    assert "Traceback" not in at.error[0].value
