"""Several documents: synthetic snapshots parse, answers name their document, ids stay unique.

The synthetic snapshots come from ``eval/synth.py`` (the real snapshot with another cluster
name, other places and other figures). Fast: no embedding model (``dense=False``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chatbot.engine import Chatbot, load_corpus
from chatbot.ingest import parse
from chatbot.settings import DEFAULT_CORPUS, ROOT, Settings

sys.path.insert(0, str(ROOT / "eval"))
import synth  # noqa: E402


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> list[synth.Synthetic]:
    return synth.generate(3, tmp_path_factory.mktemp("synthetic"), seed=11)


def _settings(paths, tmp: Path) -> Settings:
    return Settings(corpus_paths=tuple(paths), metrics_path=tmp / "metrics.csv",
                    index_dir=tmp / "indexes", feedback_db=tmp / "feedback.sqlite3", dense=False)


@pytest.fixture(scope="module")
def bot(docs, tmp_path_factory) -> Chatbot:
    return Chatbot(_settings([d.path for d in docs], tmp_path_factory.mktemp("three")))


def test_generation_is_deterministic(tmp_path):
    a = synth.generate(2, tmp_path / "a", seed=5)
    b = synth.generate(2, tmp_path / "b", seed=5)
    assert [x.path.read_text() for x in a] == [x.path.read_text() for x in b]
    assert synth.generate(1, tmp_path / "c", seed=6)[0].path.read_text() != a[0].path.read_text()


def test_synthetic_documents_parse_like_the_template(docs):
    template = parse(DEFAULT_CORPUS.read_text(encoding="utf-8"), DEFAULT_CORPUS)
    want = synth.layout(DEFAULT_CORPUS.read_text(encoding="utf-8"))
    for d in docs:
        text = d.path.read_text(encoding="utf-8")
        snap = parse(text, d.path)
        assert snap.title == f"{d.cluster} — Midlands Cluster Snapshot 2023"
        assert d.cluster not in template.raw
        assert synth.layout(text) == want
        # the figures really differ from the template's
        assert [p.value for p in snap.panels if p.value] != \
               [p.value for p in template.panels if p.value]


def test_synthetic_charts_are_read_as_charts(docs):
    """A snapshot of another cluster has chart captions with its own name in capitals."""
    template = parse(DEFAULT_CORPUS.read_text(encoding="utf-8"), DEFAULT_CORPUS)
    n_charts = sum(k == "chart" for k in template.block_kinds.values())
    snap = parse(docs[0].path.read_text(encoding="utf-8"), docs[0].path)
    assert sum(k == "chart" for k in snap.block_kinds.values()) == n_charts


@pytest.mark.parametrize("which", [0, 1, 2])
def test_figure_answer_names_its_document(bot, docs, which):
    doc = docs[which]
    ans = bot.conversation().ask(f"What is the average salary in the {doc.cluster} cluster?")
    assert ans.answered, ans.text
    salary = next(p.value for p in parse(doc.path.read_text(encoding="utf-8"), doc.path).panels
                  if p.label == "Earnings")
    assert salary.replace("\\", "") in ans.text
    assert doc.title in ans.text
    assert [c.document for c in ans.citations] == [doc.title]


def test_unnamed_figure_question_gives_every_documents_figure(bot, docs):
    ans = bot.conversation().ask("What is the average salary?")
    assert ans.answered, ans.text
    for d in docs:
        salary = next(p.value for p in parse(d.path.read_text(encoding="utf-8"), d.path).panels
                      if p.label == "Earnings")
        line = next((ln for ln in ans.text.splitlines() if d.title in ln), "")
        assert salary.replace("\\", "") in line, (d.title, ans.text)


def test_metric_and_chunk_ids_are_unique_across_documents(bot, docs):
    table = bot.corpus.table
    assert table["metric_id"].is_unique
    assert set(table["document"]) == {d.title for d in docs}
    ids = [c.chunk_id for c in bot.corpus.chunks]
    assert len(ids) == len(set(ids))


def test_ids_unique_for_two_editions_of_one_cluster(tmp_path):
    """Two editions of one snapshot (2023 and 2024) share the first words of their title."""
    raw = DEFAULT_CORPUS.read_text(encoding="utf-8")
    a, b = tmp_path / "ddhi-2023.txt", tmp_path / "ddhi-2024.txt"
    a.write_text(raw, encoding="utf-8")
    b.write_text(raw.replace("SNAPSHOT 2023", "SNAPSHOT 2024"), encoding="utf-8")
    corpus = load_corpus(_settings([a, b], tmp_path))
    assert len({s.title for s in corpus.snapshots}) == 2
    assert corpus.table["metric_id"].is_unique
    ids = [c.chunk_id for c in corpus.chunks]
    assert len(ids) == len(set(ids))
