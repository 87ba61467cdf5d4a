"""Tests for the understanding data: it loads, tags by longest phrase, knows courtesies."""

from __future__ import annotations

import pytest

from chatbot.text import stem, words
from chatbot.understanding import CATEGORIES, Understanding


@pytest.fixture(scope="module")
def u():
    return Understanding(words("Average salary, further education leavers, organisations, centre"))


def tags(u, text):
    return {(t.category, t.concept) for t in u.tag([stem(w) for w in u.tokens(text)])}


def test_every_category_and_the_intents_load(u):
    assert all(u.concepts[c] for c in CATEGORIES)
    assert len(u.intents) >= 15 and all(len(v) >= 5 for v in u.intents.values())
    assert u.starters and u.ordinals["second"] == 2


def test_longest_phrase_wins_and_consumes_its_words(u):
    found = tags(u, "how many foreign owned firms")
    assert ("measures", "foreign_owned") in found
    assert ("modifiers", "fdi") not in found  # "foreign" belongs to "foreign owned"
    assert ("stats", "count") in found


def test_a_phrase_under_two_concepts_tags_both(u):
    found = tags(u, "how many HGCs")
    assert {("measures", "high_growth"), ("measures", "businesses")} <= found


def test_shorthand_spelling_and_typos_are_read(u):
    assert u.tokens("hw many biz r there") == ["how", "many", "biz", "are", "there"]
    assert u.tokens("cluster organizations") == ["cluster", "organisations"]


def test_courtesies_are_found_at_both_ends(u):
    toks = words("Hi can you tell me the average salary thanks")
    assert u.courtesy_split(toks) == (5, 1)
    assert u.courtesy_split(words("thanks")) == (0, 1) or u.courtesy_split(words("thanks")) == (1, 0)


def test_fdi_and_ddi_exclude_each_other(u):
    assert u.exclusive("fdi", "ddi") and not u.exclusive("fdi", "seed")
