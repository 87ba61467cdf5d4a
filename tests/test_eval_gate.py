"""The regression gate: our eval set stays at or above the accuracy it reached.

The gate is the level reached when the report was committed (eval/report.md), never below
0.95; a change that makes any answer worse than that fails CI.
"""

from __future__ import annotations

import json

import pytest

from chatbot import evaluate
from chatbot.settings import ROOT

GATE = 0.95


@pytest.mark.slow
def test_eval_set_accuracy_gate(bot, tmp_path):
    lines: list[str] = []
    code = evaluate.run(ROOT / "eval" / "questions.jsonl", tmp_path, GATE, False, bot.settings,
                        out=lines.append, ask_factory=bot.conversation)
    report = json.loads((tmp_path / "report.json").read_text())["ours"]
    print("\n".join(lines))
    assert report["n"] >= 120
    assert report["unsupported_numbers"] == 0
    assert code == 0, f"accuracy {report['accuracy']:.3f} is below the gate {GATE}"
