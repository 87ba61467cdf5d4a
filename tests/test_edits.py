"""Tests for the meaning-preserving edits, and the edit suite as a gate on the engine."""

from __future__ import annotations

import json

import pytest

from chatbot.edits import ALWAYS, EDITS, edits_of
from chatbot.settings import ROOT

GATE = ROOT / "eval" / "edits_gate.json"


def test_ten_edits_apply_to_any_question() -> None:
    q = "What is the average salary?"
    kinds = [k for k, _ in edits_of(q)]
    assert len(ALWAYS) == 10 and set(ALWAYS) <= set(kinds)
    edited = dict(edits_of(q))
    assert edited["hi_and_thanks"] == "Hi! What is the average salary? Thanks!"
    assert edited["quick_question"] == "Quick question: What is the average salary?"
    assert edited["can_you_tell_me"] == "Can you tell me what is the average salary?"
    assert edited["no_question_mark"] == "What is the average salary"
    assert edited["all_caps"] == "WHAT IS THE AVERAGE SALARY?"
    assert edited["contract"] == "What's the average salary?"


@pytest.mark.parametrize(
    ("question", "kind", "expected"),
    [
        ("What's the share?", "expand", "What is the share?"),
        ("Is it 27.2% lower?", "per_cent", "Is it 27.2 per cent lower?"),
        ("Is it 27.2 percent lower?", "percent_sign", "Is it 27.2% lower?"),
        ("Was it £16m since 2005?", "money_million", "Was it £16 million since 2005?"),
        ("Was it £16m since 2005?", "money_pounds", "Was it 16 million pounds since 2005?"),
        ("Was it 16 million pounds?", "money_short", "Was it £16m?"),
        ("Was capex $266.3m?", "money_pounds", "Was capex 266.3 million dollars?"),
        ("Were there 5,552 employees?", "thousands_plain", "Were there 5552 employees?"),
        ("Were there 5552 employees in 2023?", "thousands_comma",
         "Were there 5,552 employees in 2023?"),
        ("Which organisations are in the centre?", "us_spelling",
         "Which organizations are in the center?"),
        ("Which organizations?", "uk_spelling", "Which organisations?"),
    ],
)
def test_conditional_edits(question: str, kind: str, expected: str) -> None:
    assert dict(edits_of(question))[kind] == expected


def test_conditional_edits_do_not_apply_where_nothing_to_rewrite() -> None:
    kinds = {k for k, _ in edits_of("How many spinouts are there in 2023?")}
    assert not kinds & {"per_cent", "money_million", "thousands_comma", "us_spelling"}
    assert set(EDITS) - set(ALWAYS)  # the conditional kinds exist


@pytest.mark.slow
def test_meaning_preserving_edits_flip_no_more_answers_than_the_gate(full_eval) -> None:
    """Every edit of every right single-turn answer must keep it right; the gate holds the
    flip count per kind at or below what it was (the engine issue brings it to zero)."""
    gate = json.loads(GATE.read_text(encoding="utf-8"))
    run = full_eval.report["edits"]
    tried, flipped = run["tried"], run["flipped"]
    print(f"{sum(flipped.values())} flips in {sum(tried.values())} edits of {run['items']} "
          "answers:", flipped)
    assert run["items"] >= 200 and set(ALWAYS) <= set(tried)
    over = {k: (n, gate.get(k, 0)) for k, n in flipped.items() if n > gate.get(k, 0)}
    examples = [f"{f['kind']}: {f['question']!r}: {f['reasons']}" for f in run["flips"]
                if f["kind"] in over][:10]
    assert not over, f"more flips than the gate allows {over}: " + "\n".join(examples)
