"""Source cards: titles that say what a card holds, the passage in context with the figure on a
highlighter, copy text, [n] markers as links; everything from the snapshot escaped."""

from __future__ import annotations

import re

import pytest

from chatbot import cards
from chatbot.export import NO_SOURCE
from chatbot.records import Citation

SALARY = Citation(number=1, source="ONS ASHE 2021", section="Talent Ecosystem",
                  quote="Earnings: Average salary £34,131 National average £46,894 (27.2% lower in Midlands).²",
                  metric_id="talent-earnings-average-salary", chunk_id="talent-earnings-average-salary",
                  highlight="£34,131")
SALARY_ROW = {"label": "Average salary", "display": "£34,131", "period": "2021", "source": "ONS ASHE 2021",
              "metric_id": "talent-earnings-average-salary"}
SHARE = Citation(number=2, source="Wavteq 2022", section="Investment Ecosystem", quote="17% of UK total.⁷",
                 metric_id="investment-ddi-jobs-2017-2021-share-uk", chunk_id="investment-ddi-jobs-2017-2021",
                 highlight="17%")
SHARE_PANEL = "DDI Jobs 2017-2021: 3,321 jobs 17% of UK total.⁷"
PROSE = Citation(number=3, source="", section="Introduction",
                 quote="There are dedicated Life Sciences Opportunity Zones at the Birmingham Health Campus.",
                 chunk_id="intro-p1")
PARAGRAPH = ("Data-driven healthcare innovation is a growing cluster in the Midlands. There are dedicated "
             "Life Sciences Opportunity Zones at the Birmingham Health Campus. It has world-class "
             "universities.")


def _unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def test_a_figure_card_is_titled_by_its_metric_and_source():
    assert cards.title_text(SALARY, SALARY_ROW) == "[1] Average salary — £34,131 · ONS ASHE 2021"
    assert cards.card_title(SALARY, SALARY_ROW) == r"\[1\] Average salary — £34,131 · ONS ASHE 2021"


def test_a_passage_card_is_titled_by_its_first_words():
    title = cards.title_text(PROSE, None)
    assert title == f"[3] There are dedicated Life Sciences Opportunity Zones at the … · {NO_SOURCE}"


def test_a_bare_quote_is_shown_in_its_whole_panel():
    """Issue 13: a card quoted only "17% of UK total.⁷", which does not say what the 17% is."""
    shown = cards.quote_markdown(SHARE, SHARE_PANEL)
    assert _unescaped(shown.replace(":yellow-background[**17%**]", "17%")) == f"“{SHARE_PANEL}”"
    assert ":yellow-background[**17%**]" in shown


def test_the_figure_is_highlighted_where_the_quote_is_not_elsewhere():
    panel = "Share 17% of firms. DDI Jobs: 3,321 jobs 17% of UK total."
    c = Citation(number=1, source="", section="s", quote="3,321 jobs 17% of UK total.", highlight="17%")
    shown = cards.quote_markdown(c, panel)
    assert shown.index(":yellow-background") > shown.index("3,321")


@pytest.mark.parametrize("figure, quote, marked", [
    ("8", "In 2018 retention was 83.8% and 8 firms", "8"),  # not the 8 inside 2018 or 83.8%
    ("$266.3m", "FDI Capex 2017-21: $266.3m 3% of UK total.³", r"\$266\.3m"),
])
def test_the_highlight_is_the_figure_not_a_digit_inside_another(figure, quote, marked):
    c = Citation(number=1, source="", section="s", quote=quote, highlight=figure)
    shown = cards.quote_markdown(c)
    assert f":yellow-background[**{marked}**]" in shown
    assert shown.count(":yellow-background") == 1


def test_a_sentence_quoted_from_a_paragraph_is_highlighted_in_it():
    shown = cards.quote_markdown(PROSE, PARAGRAPH)
    assert shown.startswith("“Data") and "world" in shown
    assert ":yellow-background[**There are dedicated" in shown


def test_a_long_paragraph_is_cut_around_the_quote():
    long = "Filler sentence number one. " * 60 + PROSE.quote + " After." * 100
    text, at = cards.passage(PROSE, long)
    assert len(text) < cards.MAX_PASSAGE_CHARS + 200
    assert text[at:at + len(PROSE.quote)] == PROSE.quote
    assert text.startswith("… ") and text.endswith(" …")


@pytest.mark.parametrize("quote", ["<script>alert(1)</script> 5%", "**bold** [x](javascript:1) 5%",
                                   ":red[x] $5$ 5%", "`code` 5% <img src=x>"])
def test_everything_from_the_snapshot_is_escaped(quote):
    c = Citation(number=1, source="<b>src</b>", section="*s*", quote=quote, highlight="5%")
    shown = cards.quote_markdown(c)
    body = shown.replace(":yellow-background[**5%**]", "")
    assert not re.search(r"(?<!\\)[<>*_`\[\]$:]", re.sub(r"\\.", "", body))
    assert not re.search(r"(?<!\\)[<>*\[\]]", re.sub(r"\\.", "", cards.card_title(c, None)))
    assert not re.search(r"(?<!\\)[<>*]", re.sub(r"\\.", "", cards.details_markdown(c, None)))


def test_copy_text_is_figure_label_source_quote():
    assert cards.copy_text(SALARY, SALARY_ROW) == (
        "£34,131 — Average salary (ONS ASHE 2021): Earnings: Average salary £34,131 National average "
        "£46,894 (27.2% lower in Midlands).²")
    assert cards.copy_text(PROSE, None) == f"Introduction ({NO_SOURCE}): {PROSE.quote}"


def test_details_name_section_source_and_period():
    shown = _unescaped(cards.details_markdown(SALARY, SALARY_ROW))
    assert shown == "Section: Talent Ecosystem · Data source: ONS ASHE 2021 · Period: 2021"


def test_markers_link_to_their_cards():
    body = "Average **£34,131** [1] vs **£46,894** [1][2]; see [4] and \\[1\\] and [x](y)."
    linked = cards.link_markers(body, "abc", [1, 2])
    assert linked.count("[\\[1\\]](#card-abc-1)") == 2 and "[\\[2\\]](#card-abc-2)" in linked
    assert "[4]" in linked and "#card-abc-4" not in linked  # no card, no link
    assert "\\[1\\] and" in linked  # an escaped bracket is text, not a marker
    assert cards.card_key("abc", 2) == "card-abc-2"
