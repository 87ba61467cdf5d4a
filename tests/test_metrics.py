"""Metrics table: every figure, verbatim quotes, resolved sources, parsed numbers, golden list."""

from __future__ import annotations

import re

import pytest

from chatbot.ingest import clean
from chatbot.metrics import COLUMNS, find_figures, parse_value, read_table

# (metric id, display as written, value, unit, source): read off the snapshot by hand.
GOLDEN = [
    ("business-total-cluster-business-count", "222", 222, "count", "Data City 2023"),
    ("business-total-cluster-business-count-share-uk", "14%", 14, "percent", "Data City 2023"),
    ("business-total-cluster-business-count-growth-since", "62%", 62, "percent", "Data City 2023"),
    ("business-gbp-100m-turnover-companies", "8", 8, "count", "Data City 2023"),
    ("business-high-growth-companies", "17", 17, "count", "20%+ company growth percentage per year"),
    ("business-incorporations-2017-22", "44", 44, "count", "Data City 2023"),
    ("business-foreign-owned-enterprises", "30%", 30, "percent", "Data City 2023"),
    ("business-foreign-owned-enterprises-known-foreign-owned", "67", 67, "count", "Data City 2023"),
    ("business-foreign-owned-enterprises-24", "24%", 24, "percent", "Data City 2023"),
    ("innovation-accelerator-engagement", "26", 26, "count", "Beauhurst 2022"),
    ("innovation-relevant-spinouts", "5", 5, "count", "Beauhurst 2022"),
    ("innovation-high-growth-company-grants", "14", 14, "count", "Beauhurst 2022"),
    ("innovation-innovate-uk-funding", "£16m", 16_000_000, "GBP", "Data City 2023"),
    ("innovation-innovate-uk-funding-share-innovate-uk", "11%", 11, "percent", "Data City 2023"),
    ("innovation-relevant-high-performing-hei-research-midlands", "10", 10, "count",
     "REF 2021 GPA >3.0 in relevant fields"),
    ("talent-estimated-employees", "5,552", 5552, "count", "Data City 2023"),
    ("talent-estimated-employees-share-uk-total", "5%", 5, "percent", "Data City 2023"),
    ("talent-earnings-average-salary", "£34,131", 34131, "GBP", "ONS ASHE 2021"),
    ("talent-earnings-national-average", "£46,894", 46894, "GBP", "ONS ASHE 2021"),
    ("talent-earnings-lower-midlands", "27.2%", 27.2, "percent", "ONS ASHE 2021"),
    ("talent-further-education-leavers", "19,830", 19830, "count", "DfE Unit for Future Skills"),
    ("talent-university-graduates", "11,735", 11735, "count", "Graduates from relevant subjects 2021"),
    ("talent-graduate-retention-change-over-3-years", "83.8%", 83.8, "percent", None),
    ("talent-relevant-hei-high-ranking-department-universities", "4", 4, "universities",
     "QS 'Life Sciences & Medicine' world subject ranking 2022"),
    ("investment-investment-venture-capital-firms-funds-hq", "200", 200, "count", "Beauhurst 2022"),
    ("investment-investment-venture-capital-firms-funds-offices", "313", 313, "funds", "Beauhurst 2022"),
    ("investment-fdi-into-high-growth-companies", "40%", 40, "percent", "Beauhurst 2022"),
    ("investment-fdi-capex-2017-21", "$266.3m", 266_300_000, "USD", "Wavteq 2022"),
    ("investment-fdi-capex-2017-21-share-uk", "3%", 3, "percent", "Wavteq 2022"),
    ("investment-ddi-capex-2017-21", "$544.21m", 544_210_000, "USD", "Wavteq 2022"),
    ("investment-ddi-capex-2017-21-share-uk", "15%", 15, "percent", "Wavteq 2022"),
    ("investment-fdi-jobs-2017-2021", "889", 889, "jobs", "Wavteq 2022"),
    ("investment-ddi-jobs-2017-2021", "3,321", 3321, "jobs", "Wavteq 2022"),
    ("investment-ddi-jobs-2017-2021-share-uk", "17%", 17, "percent", "Wavteq 2022"),
    ("investment-fdi-projects-2017-2021", "27", 27, "projects", "Wavteq 2022"),
    ("investment-ddi-projects-2017-2021", "47", 47, "projects", "Wavteq 2022"),
    ("investment-ddi-projects-2017-2021-share-uk", "20%", 20, "percent", "Wavteq 2022"),
    ("investment-fundraising-volumes-mean-av", "£1.2m", 1_200_000, "GBP", "Beauhurst 2022"),
    ("investment-fundraising-volumes-108-investments", "£134m", 134_000_000, "GBP", "Beauhurst 2022"),
    ("investment-fundraising-volumes-across-62-seed-investments", "£107m", 107_000_000, "GBP",
     "Beauhurst 2022"),
    ("investment-fundraising-volumes-across-33-venture-investments", "£26.8m", 26_800_000, "GBP",
     "Beauhurst 2022"),
    ("context-share-uk-jobs", "9%", 9, "percent", ""),
    ("context-jobs", "5,500", 5500, "count", ""),
    ("context-gbp-100m-turnover-companies", "eight", 8, "count", ""),
    ("method-18-177", "18,177", 18177, "count", ""),
    ("method-this-validated-somewhat-by-number-total", "68,000", 68000, "count", ""),
    ("method-number-employees-health-life-sciences-midlands", "30,000", 30000, "count", ""),
    ("method-jobs-vs-18-000-jobs", "32,000", 32000, "jobs", ""),
    ("datanote-aggregation-all-known-counts-data-within", "65", 65, "count", ""),
    ("datanote-data-as", "May 2023", 2023, "date", ""),
    ("intro-relevant-he-fe-graduates-annually-across", "31,000", 31000, "count", ""),
    ("commentary-personal-healthcare-businesses-based-midlands-raised", "5.09%", 5.09, "percent", ""),
]


@pytest.fixture(scope="module")
def rows(table):
    return {r["metric_id"]: r for r in table.to_dict("records")}


@pytest.mark.parametrize("mid,display,value,unit,source", GOLDEN)
def test_golden_figures(rows, mid, display, value, unit, source):
    row = rows[mid]
    assert row["display"] == display
    assert row["value"] == pytest.approx(value)
    assert row["unit"] == unit
    if source is not None:
        assert row["source"] == source


def test_row_count_and_columns(table):
    assert list(table.columns) == COLUMNS
    assert 75 <= len(table) <= 90
    assert table["metric_id"].is_unique


def test_every_quote_is_verbatim_and_contains_its_figure(table, clean_text):
    for r in table.to_dict("records"):
        assert r["quote"] in clean_text, r["metric_id"]
        assert r["display"] in r["quote"], r["metric_id"]


def test_periods_and_qualifiers(rows):
    assert rows["investment-fdi-capex-2017-21"]["period"] == "2017–2021"
    assert rows["business-incorporations-2017-22"]["period"] == "2017–2022"
    assert rows["talent-earnings-average-salary"]["period"] == "2021"
    assert rows["business-total-cluster-business-count-growth-since"]["period"] == "since 2013"
    assert "27.2% lower in Midlands" in rows["talent-earnings-average-salary"]["qualifier"]


def test_every_figure_has_a_sentence_with_its_value(table):
    """The overrides give each figure a sentence ("the cluster has {value} businesses"); what
    people call it is left to the understanding vocabulary, not per-figure aliases."""
    assert (table["says"].str.contains("{value}", regex=False)).all()
    assert (table["aliases"] == "").all()


@pytest.mark.parametrize("display,value", [
    ("£1.2m", 1_200_000), ("83.8%", 83.8), ("5,552", 5552), ("$544.21m", 544_210_000),
    (r"\$266.3m", 266_300_000), ("eight", 8), ("£26.8m", 26_800_000),
])
def test_parse_value(display, value):
    assert parse_value(display) == pytest.approx(value)


def test_parse_value_rejects_words():
    with pytest.raises(ValueError):
        parse_value("lots")


def test_find_figures_skips_years_and_thresholds():
    found = [f.display for f in find_figures(
        "eight £100m+ turnover companies since 2013, 20%+ growth, REF 2021 GPA >3.0, top 25, 62%")]
    assert found == ["eight", "62%"]


def test_every_number_in_figure_text_has_a_row(snapshot, table):
    """Each figure stated in a panel, bullet or commentary appears in the table."""
    shown = set(table["display"])
    for p in snapshot.panels:
        text = clean(p.value + " " + p.qualifier)
        for f in find_figures(text):
            assert f.display in shown, (p.label, f.display)
    for number in re.findall(r"\d[\d,.]*%?", "5.09% 16.9% 5.54% 32,000 18,000 18,177 68,000 30,000"):
        assert number in shown


def test_written_csv_round_trips(tmp_settings):
    from chatbot.engine import load_corpus, sync_metrics

    corpus = load_corpus(tmp_settings)
    assert sync_metrics(tmp_settings, corpus) is True
    assert sync_metrics(tmp_settings, corpus) is False
    df = read_table(tmp_settings.metrics_path)
    assert len(df) == len(corpus.table)
    assert df.loc[df.metric_id == "talent-earnings-average-salary", "display"].item() == "£34,131"


def test_committed_csv_is_current(corpus):
    from chatbot.settings import ROOT

    assert (ROOT / "corpus" / "metrics.csv").read_text(encoding="utf-8") == corpus.csv_text
