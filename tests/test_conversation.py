"""Follow-ups: state carried between turns as slots, one conversation per user."""

from __future__ import annotations

import pytest

FOLLOWUPS = [
    (["How many FDI jobs were there?", "And domestic?"], "3,321"),
    (["What is the average salary?", "How does that compare nationally?"], "£46,894"),
    (["Tell me about talent", "what's the retention figure there?"], "83.8%"),
    (["How many FDI projects?", "what about capex?"], "$266.3m"),
    (["DDI capex?", "and as a share of the UK?"], "15%"),
    (["How much was raised in seed investments?", "And venture?"], "£26.8m"),
    (["How many funds are headquartered in the Midlands?", "And how many have offices here?"], "313"),
    (["What's the FDI jobs figure?", "And the capex?", "What about domestic capex?"], "$544.21m"),
    (["How many high growth companies are in the cluster?", "What percentage of the UK is that?"],
     "11%"),
]


@pytest.mark.slow
@pytest.mark.parametrize("turns,figure", FOLLOWUPS)
def test_follow_ups_use_the_history(ask, turns, figure):
    ans = ask(*turns)
    assert ans.answered and figure in ans.text, ans.text


@pytest.mark.slow
def test_national_comparison_shows_the_gap(ask):
    ans = ask("What is the average salary?", "How does that compare nationally?")
    assert "£12,763" in ans.text and "27.2%" in ans.text
    assert ans.calculations == ["£46,894 − £34,131 = £12,763"]


@pytest.mark.slow
def test_source_follow_up(ask):
    ans = ask("How many FDI jobs were there?", "Who is the source for that?")
    assert ans.kind == "provenance" and "Wavteq 2022" in ans.text


@pytest.mark.slow
def test_conversations_do_not_share_state(bot):
    a, b = bot.conversation(), bot.conversation()
    a.ask("How many FDI jobs were there?")
    b.ask("What is the average salary?")
    assert "3,321" in a.ask("And domestic?").text
    assert "£46,894" in b.ask("How does that compare nationally?").text


@pytest.mark.slow
def test_a_fresh_question_is_not_bent_by_history(ask):
    ans = ask("How many FDI jobs were there?", "What is the average salary?")
    assert "£34,131" in ans.text and "889" not in ans.text
