"""Tests for the text module: words, stems, numbers, money, ranges, sentences, typo correction."""

from __future__ import annotations

import pytest

from chatbot.text import Corrector, canonical, edit_distance, quantities, sentences, stem, words, year_ranges


@pytest.mark.parametrize(("word", "expected"), [
    ("companies", "company"), ("businesses", "business"), ("funds", "fund"), ("funding", "funding"),
    ("focus", "focus"), ("analysis", "analysis"), ("jobs", "job"), ("2021", "2021"),
])
def test_stem_is_plural_only(word, expected):
    assert stem(word) == expected


def test_words_keep_money_percent_and_ratios():
    assert words("Salary £34,131 (27.2% lower); 7420/8855 grads, HQ'd. %") == [
        "salary", "£34131", "27.2%", "lower", "7420/8855", "grads", "hq'd", "%"]


@pytest.mark.parametrize(("text", "value", "unit"), [
    ("$266.3m", 266.3e6, "USD"), ("£34,131", 34131, "GBP"), ("16 million pounds", 16e6, "GBP"),
    ("27.2 per cent", 27.2, "percent"), ("a fifth", 20.0, "percent"), ("eight", 8, "count"),
    ("£1.2m", 1.2e6, "GBP"), ("11.8pp", 11.8, "percent"), ("£34.1k", 34100, "GBP"),
])
def test_quantities(text, value, unit):
    q = quantities(text)[0]
    assert (q.value, q.unit) == (pytest.approx(value), unit)


def test_years_are_marked_not_dropped():
    qs = quantities("FDI capex 2017 to 2021 was $266.3m")
    assert [q.is_year for q in qs] == [True, True, False]
    assert quantities("11.8 percentage points")[0].points


@pytest.mark.parametrize(("text", "expected"), [
    ("£100 million+ turnover", "£100m+ turnover"), ("16 million pounds?", "£16m?"),
    ("27.2 per cent lower", "27.2% lower"), ("have dropped 62 percent since", "have dropped 62% since"),
    ("11.8 percentage points", "11.8pp"), ("5,552 employees", "5,552 employees"),
])
def test_canonical_writes_money_and_percentages_the_snapshots_way(text, expected):
    assert canonical(text) == expected


def test_year_ranges():
    assert year_ranges("FDI 2017-21, jobs 2017–2021, 2017 to 2022, 17-21") == [
        (2017, 2021), (2017, 2021), (2017, 2022), (2017, 2021)]


def test_sentences_do_not_split_at_abbreviations_or_figures():
    text = "Mean av. £1.2m raised. Inc. 62 seed deals. Next one? Yes."
    assert sentences(text) == ["Mean av. £1.2m raised.", "Inc. 62 seed deals.", "Next one?", "Yes."]


def test_edit_distance_with_transpositions_and_limit():
    assert edit_distance("univeristy", "university", 2) == 1
    assert edit_distance("salry", "salary", 2) == 1
    assert edit_distance("abcdefgh", "zzzzzzzz", 2) == 3


def test_corrector_fixes_typos_leaves_english_and_is_bounded():
    c = Corrector({"salary": 5, "spinouts": 2, "graduates": 3, "seed": 4}, frozenset({"seen"}), 8)
    assert c.correct("salry") == "salary"
    assert c.correct("spinnouts") == "spinouts"
    assert c.correct("gradautes") == "graduates"
    assert c.correct("seen") == "seen"  # correctly spelt English is not bent to a domain word
    assert c.correct("zzzzzz") == "zzzzzz"
    for i in range(100):
        c.correct(f"qwerty{i}")
    assert len(c._cache) <= 8


def test_text_speak_without_vowels_is_read_as_the_word_it_skeletons() -> None:
    c = Corrector({"people": 3, "this": 9, "those": 2, "high": 4, "fdi": 5, "count": 2}, frozenset(), 8)
    assert [c.correct(w) for w in ("ppl", "ths", "hgh", "cnt")] == ["people", "this", "high", "count"]
    assert c.correct("fdi") == "fdi" and c.correct("xyz") == "xyz" and c.correct("abc") == "abc"


def test_best_clause_is_the_one_holding_most_of_the_question():
    from chatbot.text import best_clause

    text = "X allocated Birmingham a High Potential Opportunity, with clusters also in Nottingham"
    assert best_clause(text, ["potential", "opportunity", "allocated"]).startswith("X allocated")
    assert best_clause(text, ["nothing"]) == ""  # no clause holds more than another
