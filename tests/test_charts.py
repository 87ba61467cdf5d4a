"""Charts: which answers get one, drawn from exactly the rows they cite, every figure written on
its bar (as the snapshot writes it), shares against the whole UK, nothing fetched."""

from __future__ import annotations

import json

import pytest

from chatbot import charts, explorer


@pytest.fixture(scope="module")
def rows(table):
    return {r["metric_id"]: r for r in table.to_dict("records")}


def _layers(spec: charts.ChartSpec) -> list[dict]:
    return spec.chart.to_dict()["layer"]


def _texts(spec: charts.ChartSpec, field: str) -> list[str]:
    data = spec.chart.to_dict()
    values = data["datasets"][next(iter(data["datasets"]))]
    return [v[field] for v in values]


def test_a_comparison_is_drawn_from_the_rows_it_cites(rows):
    cited = [rows["investment-ddi-jobs-2017-2021"], rows["investment-fdi-jobs-2017-2021"]]
    [spec] = charts.answer_charts("compare", cited)
    assert _texts(spec, "text") == ["3,321", "889"]  # as written, on the bars
    assert _texts(spec, "name") == ["DDI jobs", "FDI jobs"]
    assert [v for v in _texts(spec, "value")] == [3321.0, 889.0]
    marks = [layer["mark"]["type"] for layer in _layers(spec)]
    assert marks.count("bar") == 1 and marks.count("text") == 2  # values and names, no hover
    assert "3,321" in spec.alt_text and "889" in spec.alt_text
    assert "Wavteq 2022" in spec.caption and "Hover" not in spec.caption


def test_fdi_against_ddi_gets_one_chart_per_measure(rows):
    ids = ["investment-ddi-capex-2017-21", "investment-fdi-capex-2017-21", "investment-ddi-jobs-2017-2021",
           "investment-fdi-jobs-2017-2021", "investment-ddi-projects-2017-2021",
           "investment-fdi-projects-2017-2021"]
    specs = charts.answer_charts("compare", [rows[i] for i in ids])
    titles = [s.chart.to_dict()["title"]["text"] for s in specs]
    assert titles == ["Capex (USD)", "Jobs", "Projects"]
    assert [_texts(s, "text") for s in specs] == [["$544.21m", "$266.3m"], ["3,321", "889"], ["47", "27"]]


def test_midlands_against_national_salary(rows):
    cited = [rows["talent-earnings-average-salary"], rows["talent-earnings-national-average"],
             rows["talent-earnings-lower-midlands"]]
    [spec] = charts.answer_charts("compare", cited)  # the 27.2% gap is not a third bar
    assert _texts(spec, "text") == ["£34,131", "£46,894"]
    assert _texts(spec, "colour") == ["Midlands", "national"]


def test_a_share_of_the_uk_is_drawn_against_the_whole_uk(rows):
    [spec] = charts.answer_charts("figure", [rows["investment-ddi-jobs-2017-2021-share-uk"]])
    assert _texts(spec, "text") == ["17% of the UK total"]
    assert _texts(spec, "whole") == [100.0]
    assert spec.chart.to_dict()["layer"][0]["mark"]["color"] == charts.UK_COLOUR


@pytest.mark.parametrize("kind, ids", [
    ("figure", ["talent-earnings-average-salary"]),  # one figure: text says it all
    ("overview", []),
    ("list", []),
    ("not_found", []),
    ("chat", []),
])
def test_no_chart_where_text_is_enough(rows, kind, ids):
    assert charts.answer_charts(kind, [rows[i] for i in ids]) == []


def test_long_names_wrap_instead_of_being_cut():
    row = {"label": "Personal healthcare businesses: share of UK high-growth businesses in the sector",
           "value": 16.9, "display": "16.9%", "unit": "percent", "source": ""}
    [spec] = charts.answer_charts("figure", [row])
    [name] = _texts(spec, "name")
    assert all(len(line) <= charts.NAME_CHARS for line in name.split("\n")) and "\n" in name
    assert name.replace("\n", " ") == row["label"]


def test_charts_fit_the_width_and_keep_their_height(rows):
    [spec] = charts.answer_charts("compare", [rows["investment-ddi-jobs-2017-2021"],
                                              rows["investment-fdi-jobs-2017-2021"]])
    data = spec.chart.to_dict()
    assert data["autosize"]["type"] == "fit-x" and data["height"] > 0
    assert "http" not in json.dumps(data).replace(data.get("$schema", ""), "")  # nothing to fetch


def test_explorer_charts_follow_the_filters(table):
    everything = charts.explorer_share_chart(explorer.uk_share_rows(table))
    talent = explorer.filter_metrics(table, sections=["Investment Ecosystem"])
    some = charts.explorer_share_chart(explorer.uk_share_rows(talent))
    assert len(_texts(some, "text")) < len(_texts(everything, "text"))
    assert set(_texts(some, "name")) == {"DDI projects", "DDI jobs", "DDI capex", "FDI projects", "FDI jobs",
                                         "FDI capex"}
    nothing = explorer.filter_metrics(table, text="no figure has this text")
    assert charts.explorer_share_chart(explorer.uk_share_rows(nothing)) is None
    assert charts.explorer_investment_charts(explorer.investment_rows(nothing)) == []
    jobs = explorer.filter_metrics(table, units=["jobs"])
    [spec] = charts.explorer_investment_charts(explorer.investment_rows(jobs))
    assert _texts(spec, "text") == ["889", "3,321"]


def test_sources_named_in_captions_are_data_sources_only(table):
    spec = charts.explorer_share_chart(explorer.uk_share_rows(table))
    assert "Wavteq 2022" in spec.caption and "Data City 2023" in spec.caption
    assert "20%+" not in spec.caption and "no data source named" not in spec.caption
    assert "some figures name none" in spec.caption
