"""Suggested follow-ups are questions the engine answers, in the conversation they follow."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("question", [
    "What is the average salary?", "How many FDI jobs were there?", "How many businesses are there?",
    "Which universities are involved?", "hi", "What is the population of Birmingham?",
    "Give me an overview of the snapshot",
])
def test_every_suggestion_is_answered(bot, question):
    first = bot.conversation()
    ans = first.ask(question)
    assert 2 <= len(ans.suggestions) <= 3, ans.suggestions
    for s in ans.suggestions:
        conv = bot.conversation()
        conv.ask(question)
        follow = conv.ask(s)
        assert follow.answered, (question, s, follow.text)
