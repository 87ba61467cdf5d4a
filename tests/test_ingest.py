"""Ingest: sections, panels, footnotes resolved per section, spans, escapes, bad files."""

from __future__ import annotations

import pytest

from chatbot.errors import CorpusError
from chatbot.ingest import clean, load_snapshot, normalise_source, parse, parse_markers


def test_sections_in_order(snapshot):
    assert snapshot.sections == [
        "Cluster in context", "Business Ecosystem", "Methodology note", "Innovation Ecosystem",
        "Talent Ecosystem", "Investment Ecosystem", "Commentary", "Roundtable", "Data note",
    ]
    assert snapshot.title == "Data Driven Healthcare Innovation — Midlands Cluster Snapshot 2023"


@pytest.mark.parametrize("section,number,source", [
    ("Talent Ecosystem", 1, "Data City 2023"),
    ("Innovation Ecosystem", 1, "Beauhurst 2022"),
    ("Innovation Ecosystem", 2, "Beauhurst 2022"),
    ("Innovation Ecosystem", 3, "REF 2021 GPA >3.0 in relevant fields"),
    ("Talent Ecosystem", 2, "ONS ASHE 2021"),
    ("Talent Ecosystem", 3, "DfE Unit for Future Skills"),
    ("Investment Ecosystem", 3, "Wavteq 2022"),
    ("Investment Ecosystem", 9, "Wavteq 2022"),
    ("Business Ecosystem", 1, "Data City 2023"),
    ("Business Ecosystem", 5, "Data City 2023"),
    ("Business Ecosystem", 3, "20%+ company growth percentage per year"),
])
def test_footnotes_resolve_per_section(snapshot, section, number, source):
    assert snapshot.footnote(section, number).source == source


def test_footnote_keeps_snapshot_spelling(snapshot):
    fn = snapshot.footnote("Innovation Ecosystem", 1)
    assert fn.text.startswith("Beaurost 2022")
    assert snapshot.raw[fn.start:fn.end] == fn.text


def test_every_panel_marker_resolves(snapshot):
    for p in snapshot.panels:
        for n in p.markers:
            assert snapshot.footnote(p.section, n) is not None, (p.label, n)


@pytest.mark.parametrize("text,expected", [
    ("5% of UK total.¹", (1,)), ("^{1,2,4,5} Data City", (1, 2, 4, 5)), ("x⁹", (9,)),
    ("¹⁰", (10,)), ("none", ()),
])
def test_parse_markers(text, expected):
    assert parse_markers(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("Beaurost, 2022", "Beauhurst 2022"), ("Data City, 2023", "Data City 2023"),
    ("ONS ASHE, 2021 - relevant sectors", "ONS ASHE 2021"),
])
def test_normalise_source(text, expected):
    assert normalise_source(text) == expected


def test_escapes_undone_in_display():
    assert clean(r"\$266.3m and \(OLS\) **£1.2m** [factsheet](#)") == "$266.3m and (OLS) £1.2m factsheet"


def test_panels_have_label_value_qualifier(snapshot):
    by_label = {p.label: p for p in snapshot.panels}
    emp = by_label["Estimated Employees"]
    assert (emp.value, emp.qualifier, emp.markers) == ("5,552", "5% of UK total.¹", (1,))
    sal = by_label["Earnings"]
    assert (sal.sublabel, sal.value) == ("Average salary", "£34,131")
    assert by_label["FDI Capex 2017-21"].value == r"\$266.3m"
    assert by_label["Relevant Cluster Organisations"].items[0] == "Medilink Midlands"
    assert by_label["Foreign-owned enterprises"].kind == "table_row"


def test_spans_point_at_the_text(snapshot):
    for p in snapshot.panels:
        if p.value_span:
            assert snapshot.raw[p.value_span[0]:p.value_span[1]] == p.value


def test_charts_marked_not_invented(snapshot):
    charts = [b for b in snapshot.blocks if snapshot.block_kinds[b.start] == "chart"]
    assert len(charts) == 5
    assert any("Turnover" in b.text for b in charts)


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"caf\xe9 \xff\xfe", "not valid UTF-8"),
    (b"abc\x00def", "binary"),
])
def test_bad_files_raise_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message) as err:
        load_snapshot(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_snapshot(tmp_path / "nope.txt")


def test_unparsable_panel_value_names_line(raw_text):
    broken = raw_text.replace("Accelerator Engagement:¹ **26**", "Accelerator Engagement:¹ **lots**")
    with pytest.raises(CorpusError, match=r":68: unparsable figure value"):
        parse(broken, "snap.txt")


def test_marker_without_footnote_is_an_error(raw_text):
    broken = raw_text.replace("5% of UK total.¹", "5% of UK total.⁷")
    with pytest.raises(CorpusError, match="footnote marker 7"):
        parse(broken, "snap.txt")


def test_not_a_snapshot():
    with pytest.raises(CorpusError, match="no figure panels"):
        parse("Just some text.\n\nAnother paragraph.\n", "x.txt")
