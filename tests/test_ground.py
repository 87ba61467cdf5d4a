"""Grounding: a fabricated number can never reach the user."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from chatbot.ground import check, numbers
from chatbot.records import Citation

CITE = Citation(1, "ONS ASHE 2021", "Talent Ecosystem",
                "Earnings: Average salary £34,131 National average £46,894 (27.2% lower in Midlands).²")


@pytest.mark.parametrize("text,expected", [
    ("£34,131", {"34131"}), ("$266.3m", {"266.3"}), ("FDI Capex 2017-21", {"2017", "21", "2021"}),
    ("83.8% [1]", {"83.8"}), ("1. Strategy", set()), ("5.50", {"5.5"}),
])
def test_numbers(text, expected):
    assert numbers(text) == expected


def test_supported_line_kept_fabricated_line_dropped():
    kept, dropped = check(["The average salary is **£34,131** [1].",
                           "The average salary is **£39,000** [1]."], [CITE])
    assert kept == ["The average salary is **£34,131** [1]."]
    assert dropped == ["The average salary is **£39,000** [1]."]


def test_calculation_needs_cited_inputs():
    kept, _ = check(["Gap **£12,763** [1]."], [CITE], ["£46,894 − £34,131 = £12,763"])
    assert kept
    kept, dropped = check(["Gap **£999** [1]."], [CITE], ["£1,000 − £1 = £999"])
    assert not kept and dropped


class _Inventor(FakeListChatModel):
    """A chat model that answers fluently and invents a figure."""


@pytest.mark.slow
def test_generative_mode_falls_back_when_the_model_invents(bot):
    from chatbot.engine import Chatbot

    model = FakeListChatModel(responses=["The average salary is £41,000 [1], well above average."])
    b = Chatbot(bot.settings, chat_model=model)
    ans = b.conversation().ask("What is the average salary?")
    assert "41,000" not in ans.text
    assert "£34,131" in ans.text
    assert any("41,000" in d for d in ans.dropped)


@pytest.mark.slow
def test_generative_mode_keeps_a_grounded_phrasing(bot):
    from chatbot.engine import Chatbot

    phrased = "Midlands salaries average **£34,131**, against £46,894 nationally [1]."
    b = Chatbot(bot.settings, chat_model=FakeListChatModel(responses=[phrased]))
    ans = b.conversation().ask("What is the average salary?")
    assert ans.text == phrased
    assert ans.citations[0].source == "ONS ASHE 2021"


@pytest.mark.slow
def test_generative_mode_without_markers_falls_back(bot):
    from chatbot.engine import Chatbot

    b = Chatbot(bot.settings, chat_model=FakeListChatModel(responses=["It is £34,131."]))
    ans = b.conversation().ask("What is the average salary?")
    assert ans.text.startswith("The average salary in the cluster is **£34,131**")  # ours, checked


def test_llm_setting_needs_its_optional_dependencies(tmp_settings):
    """CHATBOT_LLM without the [llm] extra is a clear configuration error, not a crash."""
    from chatbot.engine import Chatbot
    from chatbot.errors import ConfigError

    with pytest.raises(ConfigError, match="ollama:MODEL|optional dependencies"):
        Chatbot(tmp_settings.with_(llm="nonsense:model", dense=False))
