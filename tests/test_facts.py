"""Tests for the figures' facets and the relations found between them."""

from __future__ import annotations

import pytest

from chatbot.facts import Facts
from chatbot.understanding import Understanding


@pytest.fixture(scope="module")
def facts(table):
    return Facts(table.to_dict("records"), Understanding())


def by_label(facts, label):
    return next(m for m in facts.metrics if m.label == label)


def test_facets_come_from_labels(facts):
    m = by_label(facts, "DDI capex: share of UK total")
    assert m.measures == {"capex"} and m.modifiers == {"ddi"} and m.stats == {"share"}
    salary = by_label(facts, "Average salary")
    assert salary.measures == {"salary"} and salary.is_money and "mean" in salary.stats


def test_shares_national_gap_and_counterpart(facts):
    businesses = by_label(facts, "Total cluster business count")
    assert facts.shares(businesses)[0].display == "14%"
    assert facts.growth(businesses)[0].display == "62%"
    salary = by_label(facts, "Average salary")
    assert facts.national(salary).display == "£46,894"
    assert facts.gap(salary).display == "27.2%"
    assert facts.paired(facts.national(salary)) is salary
    assert facts.counterpart(by_label(facts, "FDI jobs 2017–2021")).display == "3,321"


def test_parts_of_a_whole_and_divisors(facts):
    total = by_label(facts, "Number of fundraising investments")
    assert {p.display for p in facts.parts(total)} == {"62", "33"}
    seed = by_label(facts, "Seed fundraising total")
    assert facts.divisors(seed)[0].display == "62"
    assert facts.whole(by_label(facts, "Number of seed investments")) is total


def test_ratio_parts_found_by_arithmetic(facts):
    retention = by_label(facts, "Graduate retention (change over 3 years)")
    a, b = facts.ratio_parts(retention)
    assert (a.value, b.value) == (7420, 8855)
    fdi = facts.ratio_parts(by_label(facts, "FDI into high growth companies (share of UK investments)"))
    assert (fdi[0].value, fdi[1].value) == (43, 108)


def test_same_concept_links_one_thing_stated_twice(facts):
    employees = by_label(facts, "Estimated employees")
    assert {m.display for m in facts.same_concept(employees)} >= {"5,552", "5,500"}
