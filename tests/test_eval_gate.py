"""The regression gate: every registered open set stays at or above its strict gate.

Each set's gate in ``eval/sets.json`` is the strict accuracy it had when the gate was set; a
change that makes the engine answer worse than that fails CI. Sealed sets are not scored
here (they are opened once at the end of each engine change, with ``chatbot eval --sealed``).
"""

from __future__ import annotations

import pytest

from chatbot.evalsets import load_register
from chatbot.settings import ROOT


@pytest.mark.slow
def test_every_open_set_holds_its_strict_gate(full_eval):
    code, lines, report = full_eval.code, full_eval.lines, full_eval.report["sets"]
    print("\n".join(lines))
    gated = [s for s in load_register(ROOT / "eval") if s.gate is not None]
    assert {s.name for s in gated} >= {"dev", "heldout", "blind"}
    assert all(not s.sealed for s in gated)
    for name, data in report.items():
        assert data["ours"]["unsupported_numbers"] == 0, name
    assert code == 0, "\n".join(line for line in lines if line.startswith("FAIL"))
