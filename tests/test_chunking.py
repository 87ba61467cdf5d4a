"""Chunking: exact spans, figures kept whole, MiniLM's 256 word pieces, stable ids, safe metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from chatbot.chunking import MAX_WORDS, chunk_snapshot
from chatbot.index import model_path
from chatbot.ingest import clean, parse
from chatbot.settings import ROOT

KINDS = {"prose", "figure", "footnote", "list", "table_row", "chart"}
#: MiniLM (all-MiniLM-L6-v2) reads at most this many word pieces, [CLS] and [SEP] included.
MAX_PIECES = 256


@pytest.fixture(scope="module")
def chunks(corpus):
    return corpus.chunks


@pytest.fixture(scope="module")
def by_id(chunks):
    return {c.chunk_id: c for c in chunks}


@pytest.fixture(scope="module")
def word_pieces():
    """Count MiniLM word pieces with the model's own tokenizer, without its padding/cut-off."""
    tok = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return lambda text: len(tok.encode(text).ids)


def test_every_quote_is_the_snapshot_text_of_its_span(chunks, raw_text):
    assert len(chunks) > 50
    for c in chunks:
        assert 0 <= c.start < c.end <= len(raw_text), c.chunk_id
        assert c.quote == clean(raw_text[c.start:c.end]), c.chunk_id
        assert c.quote.strip(), c.chunk_id


@pytest.mark.parametrize("chunk_id,label,value,qualifier,source", [
    ("talent-estimated-employees", "Estimated Employees", "5,552", "5% of UK total", "Data City 2023"),
    ("talent-earnings-average-salary", "Average salary", "£34,131", "National average £46,894",
     "ONS ASHE 2021"),
    ("investment-fdi-capex-2017-21", "FDI Capex 2017-21", "$266.3m", "3% of UK total", "Wavteq 2022"),
    ("investment-ddi-jobs-2017-2021", "DDI Jobs 2017-2021", "3,321 jobs", "17% of UK total",
     "Wavteq 2022"),
    ("business-total-cluster-business-count", "Total Cluster Business Count", "222",
     "62% growth since 2013", "Data City 2023"),
    ("innovation-innovate-uk-funding", "Innovate UK funding", "£16m since 2005",
     "11% of Innovate UK funding awards", "Data City 2023"),
    ("talent-graduate-retention-change-over-3-years", "Graduate Retention", "83.8%",
     "Negative balance", "7420/8855 first degree graduates"),
])
def test_figure_chunk_carries_label_value_qualifier_and_source(by_id, chunk_id, label, value,
                                                                qualifier, source):
    c = by_id[chunk_id]
    assert c.kind in ("figure", "table_row")
    for part in (label, value, qualifier, source):
        assert part in c.text, (part, c.text)
    assert source in c.source
    assert value.split()[0] in c.quote  # the figure itself is in the snapshot's own words
    assert c.metric_ids, "a figure chunk points at its metrics rows"


def test_footnote_chunks_name_the_figures_they_source(by_id):
    fn = by_id["talent-fn2"]
    assert fn.kind == "footnote"
    assert "ONS ASHE" in fn.text and "Earnings" in fn.text
    assert by_id["innovation-fn1"].source == "Beauhurst 2022"  # the snapshot's "Beaurost", resolved


def test_charts_say_their_values_are_missing(chunks):
    charts = [c for c in chunks if c.kind == "chart"]
    assert len(charts) == 5
    assert all("values are not available" in c.text for c in charts)


def test_no_chunk_exceeds_minilm_word_pieces(chunks, word_pieces):
    sizes = {c.chunk_id: word_pieces(c.text) for c in chunks}
    assert max(sizes.values()) <= MAX_PIECES, max(sizes.items(), key=lambda kv: kv[1])


def test_long_prose_is_windowed_under_the_limit(raw_text, word_pieces):
    sentence = ("Partners report that procurement rules for AI-enabled diagnostics slow adoption in "
                "NHS trusts, especially for SMEs without a track record. ")
    paragraph = "".join(f"Finding {i} is this. {sentence}" for i in range(40))
    snap = parse(raw_text.rstrip() + "\n\n" + paragraph + "\n", "long.txt")
    long = [c for c in chunk_snapshot(snap) if c.start >= len(raw_text.rstrip())]
    assert len(long) >= 4, "a 700-word paragraph must be split"
    for c in long:
        assert c.kind == "prose"
        assert len(c.quote.split()) <= MAX_WORDS
        assert word_pieces(c.text) <= MAX_PIECES
        assert c.quote == clean(snap.raw[c.start:c.end])
    # Windows overlap by one sentence and together cover the whole paragraph.
    assert long[0].start == len(raw_text.rstrip()) + 2
    assert long[-1].end == len(snap.raw.rstrip())
    for a, b in zip(long, long[1:], strict=False):
        assert b.start < a.end, "consecutive windows share a sentence"


def test_chunk_ids_are_unique(chunks):
    ids = [c.chunk_id for c in chunks]
    assert len(ids) == len(set(ids))


def test_chunk_ids_are_stable(snapshot, chunks, raw_text):
    again = chunk_snapshot(parse(raw_text, "again.txt"))
    assert [c.chunk_id for c in again] == [c.chunk_id for c in chunk_snapshot(snapshot)]
    # Text added at the end does not renumber anything before it.
    grown = chunk_snapshot(parse(raw_text.rstrip() + "\n\nA new closing paragraph.\n", "grown.txt"))
    assert {c.chunk_id for c in again} <= {c.chunk_id for c in grown}


def test_labelled_retrieval_questions_point_at_real_chunks(chunks):
    """eval/retrieval.jsonl is a golden file keyed on chunk ids: renaming one must show here."""
    ids = {c.chunk_id for c in chunks}
    lines = (ROOT / "eval" / "retrieval.jsonl").read_text(encoding="utf-8").splitlines()
    gold = {g for line in lines if line.strip() for g in json.loads(line)["gold_chunks"]}
    assert gold and gold <= ids, sorted(gold - ids)


def test_kinds_are_known_and_all_present(chunks):
    kinds = {c.kind for c in chunks}
    assert kinds <= KINDS
    assert kinds == KINDS


def test_metadata_is_chroma_safe(chunks):
    for c in chunks:
        meta = c.metadata()
        assert meta["chunk_id"] == c.chunk_id
        for key, value in meta.items():
            assert isinstance(key, str)
            assert type(value) in (str, int, float, bool), (c.chunk_id, key, value)
    with_metrics = [c for c in chunks if c.metric_ids]
    assert with_metrics and all(c.metadata()["metric_ids"] == ",".join(c.metric_ids)
                                for c in with_metrics)
