"""The regression gate: every registered open set stays at or above its strict gate.

Each set's gate in ``eval/sets.json`` is the strict accuracy it had when the gate was set; a
change that makes the engine answer worse than that fails CI. Sealed sets are not scored
here (they are opened once at the end of each engine change, with ``chatbot eval --sealed``).
"""

from __future__ import annotations

import json

import pytest

from chatbot.evalsets import load_register
from chatbot.evaluate import Options, run
from chatbot.settings import ROOT


@pytest.mark.slow
def test_every_open_set_holds_its_strict_gate(bot, tmp_path):
    lines: list[str] = []
    code = run(Options(report_dir=tmp_path, baselines=False, edits=False), bot.settings,
               lines.append, bot=bot)
    print("\n".join(lines))
    report = json.loads((tmp_path / "report.json").read_text())["sets"]
    gated = [s for s in load_register(ROOT / "eval") if s.gate is not None]
    assert {s.name for s in gated} >= {"dev", "heldout", "blind"}
    assert all(not s.sealed for s in gated)
    for name, data in report.items():
        assert data["ours"]["unsupported_numbers"] == 0, name
    assert code == 0, "\n".join(line for line in lines if line.startswith("FAIL"))
