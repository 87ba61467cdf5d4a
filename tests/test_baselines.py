"""Tests for the baselines, and the scorer's sanity check: no-logic answerers score badly."""

from __future__ import annotations

import pytest

from chatbot.baselines import DumpAll, LangChainDense, TopChunks
from chatbot.evalsets import EvalItem, load_register
from chatbot.evaluate import evaluate
from chatbot.records import Chunk, Citation
from chatbot.reporting import DUMP, TOP5
from chatbot.settings import ROOT

#: A strict scorer that lets either sanity baseline reach this is broken.
SANITY_CEILING = 0.20
SALARY_QUOTE = "Average salary **£34,131**"


def chunk(cid: str, quote: str, section: str = "Talent Ecosystem", source: str = "") -> Chunk:
    return Chunk(cid, quote, quote, section, "figure", source, 0, len(quote))


def item(**kw) -> EvalItem:
    values = {"id": "q", "category": "figure", "turns": ("What is the average salary?",),
              "answerable": True, "must_include": (("£34,131",),)}
    return EvalItem(**(values | kw))


def test_dump_all_declines_exactly_the_unanswerable_items() -> None:
    rows = [{"label": "Average salary", "display": "£34,131", "source": "ONS ASHE 2021",
             "section": "Talent Ecosystem", "quote": SALARY_QUOTE, "metric_id": "salary"}]
    dump = DumpAll([chunk("c", "Relevant Spinouts: 5")], rows)
    yes = dump(item()).ask("anything")
    no = dump(item(answerable=False, must_include=())).ask("anything")
    assert yes.answered and "£34,131" in yes.text and "Relevant Spinouts: 5" in yes.text
    assert len(yes.citations) == 2
    assert not no.answered


def test_top_chunks_concatenates_five_quotes() -> None:
    chunks = [chunk(str(n), f"Passage {n}") for n in range(8)]
    top = TopChunks(lambda q: chunks)
    ans = top(item()).ask("q")
    assert ans.answered and len(ans.citations) == 5
    assert ans.text.startswith("Passage 0 [1]") and "Passage 5" not in ans.text


@pytest.mark.slow
def test_sanity_baselines_score_below_twenty_percent_strict_on_every_set(full_eval) -> None:
    sets = full_eval.report["sets"]
    assert set(sets) == {s.name for s in load_register(ROOT / "eval") if not s.sealed}
    scores = {(name, b): data["baselines"][b] for name, data in sets.items() for b in (DUMP, TOP5)}
    print({k: f"{v['strict']:.1%} (lenient {v['lenient']:.1%})" for k, v in scores.items()})
    too_good = {k: v["strict"] for k, v in scores.items() if v["strict"] >= SANITY_CEILING}
    assert not too_good, f"the strict scorer is broken: baselines score {too_good}"
    # ...while the lenient reading is fooled by the dump: that is why strict exists
    assert max(v["lenient"] for (s, b), v in scores.items() if b == DUMP) > 0.5


@pytest.mark.slow
def test_langchain_baseline_answers_with_the_best_chunk_quote() -> None:
    chunks = [
        chunk("salary", SALARY_QUOTE, "Talent Ecosystem", "ONS ASHE 2021"),
        chunk("spinouts", "Relevant Spinouts: 5", "Innovation Ecosystem", "Beauhurst 2022"),
        chunk("fdi-jobs", "FDI Jobs 2017-2021: 889 jobs", "Investment Ecosystem", "Wavteq 2022"),
    ]
    pipeline = LangChainDense(chunks)
    ans = pipeline(item()).ask("What is the average salary?")
    assert (ans.text, ans.answered) == (SALARY_QUOTE, True)
    assert ans.citations == [
        Citation(1, "ONS ASHE 2021", "Talent Ecosystem", SALARY_QUOTE, chunk_id="salary")]
    assert ans.retrieved[0] == "salary"
    # scored by the same rules: it never declines, so an unanswerable question is wrong
    report = evaluate([item(cite=("ONS ASHE",)), item(id="u", answerable=False, must_include=())],
                      pipeline, SALARY_QUOTE)
    assert [r.correct for r in report.results] == [True, False]
