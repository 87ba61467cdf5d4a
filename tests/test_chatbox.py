"""Chat box: one limit for the box and the engine; a long paste answered from its last question
or refused in words, never dropped; empty messages not sent; the first screen's starters."""

from __future__ import annotations

import pytest

from chatbot import chatbox
from chatbot.chatbox import read_typed
from chatbot.settings import Settings

LIMIT = Settings().max_question_chars
QUESTION = "What share of UK DDI jobs are in the Midlands?"


@pytest.mark.parametrize("raw", ["", "   ", "\n\t \n", "\u200b\u200b", None, " " * 50_000])
def test_empty_messages_are_not_sent(raw):
    typed = read_typed(raw, LIMIT)
    assert not typed.sent and typed.question == "" and typed.refusal == ""


def test_a_question_within_the_limit_is_asked_as_typed():
    text = "Here is some context. " * 50 + QUESTION
    assert len(text) <= LIMIT
    typed = read_typed(text, LIMIT)
    assert typed.sent and typed.question == text and typed.shown == text
    assert not typed.notice and not typed.refusal


def test_a_long_paste_is_answered_from_its_last_question():
    text = "Minutes of the regional meeting. " * 160 + QUESTION
    assert len(text) > LIMIT
    typed = read_typed(text, LIMIT)
    assert typed.question == QUESTION
    assert f"{len(text):,} characters" in typed.notice and f"{LIMIT:,}" in typed.notice
    assert QUESTION in typed.notice
    assert typed.shown.endswith(f"({len(text):,} characters)") and len(typed.shown) < 400


@pytest.mark.parametrize("tail", [
    "\nWhat is the average salary?", " What is the average salary?  \n", "! What is the average salary?",
    ". What is the average salary?\"",
])
def test_the_last_question_starts_after_the_last_sentence(tail):
    typed = read_typed("x. " * 2000 + tail, LIMIT)
    assert typed.question == "What is the average salary?"


@pytest.mark.parametrize("text", [
    "lorem ipsum " * 500,  # no question at all
    "What is the average salary? " + "lorem ipsum " * 500,  # the question is not at the end
    "word " * 1000 + "?",  # the "question" is longer than the limit
])
def test_a_long_paste_without_a_final_question_is_refused_in_words(text):
    typed = read_typed(text, LIMIT)
    assert typed.sent and typed.question == ""
    assert f"{len(text):,} characters" in typed.refusal and f"{LIMIT:,}" in typed.refusal
    assert "Nothing was sent" in typed.refusal


def test_a_huge_paste_costs_no_more_than_a_long_one():
    import time

    t0 = time.perf_counter()
    typed = read_typed("a" * 50_000_000 + ". What is the average salary?", LIMIT)
    assert time.perf_counter() - t0 < 1.0
    assert typed.question == "What is the average salary?"


def test_the_box_states_the_engines_limit():
    assert chatbox.placeholder(LIMIT) == "Ask about the snapshot (up to 2,000 characters)"


def test_starters_cover_each_kind_the_issue_names():
    kinds = [k for k, _q in chatbox.STARTERS]
    assert kinds == ["A figure", "An overview", "A comparison", "A recommendation",
                     "A check of a claim"]
    assert "foreign and domestic" in chatbox.WELCOME  # FDI/DDI explained before they are used


@pytest.mark.slow
def test_every_starter_is_answered(bot):
    for kind, question in chatbox.STARTERS:
        ans = bot.conversation().ask(question)
        assert ans.answered and ans.citations, (kind, question, ans.text)
