"""Tests for the eval report files."""

from __future__ import annotations

import json
from pathlib import Path

from chatbot.evalsets import EvalSet
from chatbot.reporting import DUMP, EditRun, Flip, SetRun, summarise, write_report
from chatbot.scoring import ItemResult


def result(id: str, category: str = "figure", strict: bool = True, correct: bool = True,
           text: str = "An answer") -> ItemResult:
    return ItemResult(id=id, category=category, answerable=True, correct=correct, strict=strict,
                      refused=False, reasons=[] if strict else ["states 12 figures"],
                      citation_supported=None, unsupported_numbers=[], gold_rank=None,
                      has_gold=False, latency_s=0.01, turns=(f"Question {id}?",), answer_text=text)


def test_report_shows_strict_and_lenient_per_set_and_category(tmp_path: Path) -> None:
    ours = summarise([result("a"), result("b", "list", strict=False, text="Twelve figures")])
    dump = summarise([result("a", strict=False), result("b", "list", strict=False)])
    runs = [SetRun(EvalSet("dev", Path("q.jsonl"), "dev"), ours, {DUMP: dump})]
    edits = EditRun({"hi_before": 2}, {"hi_before": 1}, 2,
                    [Flip("dev", "a", "hi_before", "Hi! Question a?", ("missing one of ['5']",))])
    md = write_report(runs, tmp_path, edits=edits, meta={"date": "2026-12-01"}).read_text()
    assert "| dev | dev | 2 | 50.0% | 100.0% | 0.0% | - | - |" in md
    assert "| list | 1 | 0.0% | 100.0% | 0.0% |" in md
    assert "| hi_before | 2 | 1 |" in md and "| all | 2 | 1 |" in md
    assert "### `b` (list)" in md and "Twelve figures" in md
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["sets"]["dev"]["ours"]["strict"] == 0.5
    assert data["sets"]["dev"]["baselines"]["dump"]["strict"] == 0.0
    assert data["edits"]["flipped"] == {"hi_before": 1}


def test_sealed_sets_show_aggregates_only(tmp_path: Path) -> None:
    ours = summarise([result("s1", text="secret answer"), result("s2", strict=False)])
    runs = [SetRun(EvalSet("voice-sealed", Path("x.jsonl.gz"), "sealed"), ours)]
    log = [{"date": "2026-12-01", "commit": "abc", "set": "voice-sealed", "n": 2, "strict": 0.5,
            "lenient": 1.0, "note": "before"}]
    md = write_report(runs, tmp_path, sealed_log=log).read_text()
    assert "| voice-sealed | sealed | 2 | 50.0% |" in md
    assert "| 2026-12-01 | abc | voice-sealed | 2 | 50.0% | 100.0% | before |" in md
    everything = md + (tmp_path / "report.json").read_text()
    assert "secret answer" not in everything and "Question s1" not in everything
