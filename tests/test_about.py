"""About this data: title, publisher, date, coverage, the data sources (resolved from the
footnotes, each with what it covers) and the snapshot's own caveats."""

from __future__ import annotations

import pandas as pd
import pytest

from chatbot import about as about_mod
from chatbot.settings import Settings


def test_about_reads_the_snapshot(corpus, clean_text):
    corpus_text = clean_text
    origin = about_mod.read_origin(Settings().corpus_paths)
    about = about_mod.about_snapshot(corpus.table, corpus.chunks, corpus.snapshots, origin)
    assert about.titles == ("Data Driven Healthcare Innovation — Midlands Cluster Snapshot 2023",)
    assert about.publisher.startswith("Midlands Engine Observatory")
    assert about.data_as_of == "May 2023"
    assert about.coverage == "65 local authorities"
    names = [s.name for s in about.sources]
    assert names == ["Data City 2023", "Beauhurst 2022", "REF 2021", "ONS ASHE 2021",
                     "DfE Unit for Future Skills", "QS 'Life Sciences & Medicine' world subject ranking 2022",
                     "Wavteq 2022"]  # footnote text that only defines a measure is not a source
    quotes = " ".join(q for _s, q in about.caveats)
    assert "underestimated by the Data City data (18,177)" in quotes  # the jobs undercount
    assert "North Lincolnshire" in quotes and "should therefore be disregarded" in quotes
    # overlapping chunks are merged: each sentence of the snapshot is quoted once
    assert quotes.count("likely to be underestimated") == 1
    assert [s for s, _q in about.caveats] == ["Methodology note", "Business Ecosystem"]
    assert all(q in corpus_text for _s, q in about.caveats)
    assert about.figures == len(corpus.table)


def test_about_without_the_facts_says_not_stated():
    empty = pd.DataFrame(columns=["metric_id", "label", "display", "unit", "source", "section"])
    about = about_mod.about_snapshot(empty, [], [], "")
    assert (about.publisher, about.data_as_of, about.coverage) == ("not stated",) * 3
    assert about.sources == () and about.caveats == ()


@pytest.mark.parametrize("footnote, resolved", [
    ("ONS ASHE, 2021 - relevant sectors", ("ONS ASHE 2021", "relevant sectors")),
    ("Beaurost 2022: High growth companies utilised accelerators",
     ("Beauhurst 2022", "High growth companies utilised accelerators")),
    ("REF 2021 GPA >3.0 in relevant fields", ("REF 2021", "GPA >3.0 in relevant fields")),
    ("DfE Unit for Future Skills: Further Education leavers 18/19 in relevant fields",
     ("DfE Unit for Future Skills", "Further Education leavers 18/19 in relevant fields")),
    ("Wavteq 2022", ("Wavteq 2022", "")),
    ("20%+ company growth percentage per year", None),
    ("Graduates from relevant subjects 2021", None),
    ("7420/8855 first degree graduates trained in region remain in 'Information and Communication'", None),
    ("", None),
])
def test_footnotes_resolve_to_data_sources(footnote, resolved):
    assert about_mod.resolve_source(footnote) == resolved


def test_each_source_says_what_it_covers(corpus):
    sources = {s.name: s for s in about_mod.data_sources(corpus.table, corpus.chunks)}
    ons = sources["ONS ASHE 2021"]
    assert ons.notes == ("relevant sectors",) and ons.sections == ("Talent Ecosystem",)
    assert "Average salary" in ons.labels and "3 figures in Talent Ecosystem" in ons.covers
    wavteq = sources["Wavteq 2022"]
    assert wavteq.sections == ("Investment Ecosystem",) and "FDI capex 2017–21" in wavteq.covers
    assert "more" in wavteq.covers  # twelve figures: four named, the rest counted
    assert sources["REF 2021"].covers.startswith("GPA >3.0 in relevant fields; 1 figure in")
