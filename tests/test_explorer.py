"""Metrics explorer: filters, the reader's columns first, a CSV with the value as written and a
clean number, and the rows its charts draw (from the filtered rows)."""

from __future__ import annotations

import csv
import io

import pytest

from chatbot import explorer
from chatbot.export import NO_SOURCE


def test_filters_shrink_the_table(table):
    n = len(table)
    talent = explorer.filter_metrics(table, sections=["Talent Ecosystem"])
    assert 0 < len(talent) < n and set(talent["section"]) == {"Talent Ecosystem"}
    wavteq = explorer.filter_metrics(table, sources=["Wavteq 2022"])
    assert 0 < len(wavteq) < n and set(wavteq["source"]) == {"Wavteq 2022"}
    none = explorer.filter_metrics(table, sources=[NO_SOURCE])
    assert len(none) and set(none["source"]) == {""}
    jobs = explorer.filter_metrics(table, units=["jobs"], sections=["Investment Ecosystem"])
    assert set(jobs["display"]) == {"889", "3,321"}
    assert len(explorer.filter_metrics(table, text="SALARY")) >= 2
    assert explorer.filter_metrics(table)["metric_id"].tolist() == table["metric_id"].tolist()


@pytest.mark.parametrize("text", ["£100m+", "(27.2%", "a|b", ".*", "[", "`x` == 1", "@x"])
def test_text_filter_is_literal(table, text):
    hits = explorer.filter_metrics(table, text=text)  # no regex, no query, no eval: never raises
    assert all(text.lower() in " ".join(map(str, r)).lower() for r in hits.itertuples())


def test_filter_options_and_view(table):
    opts = explorer.filter_options(table)
    assert "Talent Ecosystem" in opts["section"] and NO_SOURCE in opts["source"]
    assert "percent" in opts["unit"]
    view = explorer.explorer_view(table)
    assert list(view.columns) == explorer.EXPLORER_COLUMNS
    assert (view["source"] != "").all()


def test_uk_share_rows_hold_each_stated_share_once(table):
    share = explorer.uk_share_rows(table)
    got = dict(zip(share["metric"], share["share"], strict=True))
    expected = {"Total cluster business count": 14, "High growth companies": 11,
                "£100m+ turnover companies": 14, "Incorporations 2017–22": 11,
                "FDI capex": 3, "DDI capex": 15, "FDI jobs": 5, "DDI jobs": 17,
                "FDI projects": 7, "DDI projects": 20}
    for metric, value in expected.items():
        assert got.get(metric) == value, metric
    assert share["metric"].is_unique
    assert (share["section"] != explorer.SUMMARY_SECTION).sum() >= 10
    assert not share["label"].str.contains("investments").any()  # FDI's share of investments
    assert share["share"].is_monotonic_decreasing


def test_investment_rows_compare_fdi_and_ddi(table):
    inv = explorer.investment_rows(table)
    got = {(k, m): d for k, m, d in zip(inv["kind"], inv["measure"], inv["display"], strict=True)}
    assert got == {("FDI", "Capex"): "$266.3m", ("DDI", "Capex"): "$544.21m",
                   ("FDI", "Jobs"): "889", ("DDI", "Jobs"): "3,321",
                   ("FDI", "Projects"): "27", ("DDI", "Projects"): "47"}


def test_readers_columns_come_first(table):
    view = explorer.explorer_view(table)
    assert list(view.columns)[:6] == ["label", "display", "unit", "period", "source", "quote"]
    assert set(explorer.EXPLORER_HEADINGS) == set(explorer.EXPLORER_COLUMNS)
    assert explorer.EXPLORER_HEADINGS["display"] == "Value as written"


def test_csv_has_the_value_as_written_and_a_clean_number(table):
    text = explorer.table_csv(table)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == explorer.CSV_COLUMNS  # reader columns, not the table's internals
    assert len(rows) == len(table)
    by_id = {r["metric_id"]: r for r in rows}
    fdi = by_id["investment-fdi-capex-2017-21"]
    assert (fdi["value_as_written"], fdi["value"]) == ("$266.3m", "266300000")
    gap = by_id["talent-earnings-lower-midlands"]
    assert (gap["value_as_written"], gap["value"], gap["unit"]) == ("27.2%", "27.2", "percent")
    assert by_id["talent-earnings-average-salary"]["value"] == "34131"
    assert ".0," not in text and "e+" not in text
    assert all(r["source"] for r in rows)  # "no data source named" rather than a blank


@pytest.mark.parametrize("value, written", [(266300000.0, "266300000"), (27.2, "27.2"), (5.09, "5.09"),
                                            (0.1 + 0.2, "0.3"), (float("nan"), ""), (None, ""),
                                            ("x", ""), (-3.0, "-3")])
def test_plain_number(value, written):
    assert explorer.plain_number(value) == written


def test_csv_of_filtered_rows_holds_only_those(table):
    salary = explorer.filter_metrics(table, text="salary")
    rows = list(csv.DictReader(io.StringIO(explorer.table_csv(salary))))
    assert len(rows) == len(salary) and {"£34,131", "£46,894"} <= {r["value_as_written"] for r in rows}
