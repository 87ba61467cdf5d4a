"""Tests for reading eval sets and the register of sets."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from chatbot.errors import ChatbotError
from chatbot.evalsets import load_items, load_register
from chatbot.settings import ROOT

GOOD = {
    "id": "fig-salary-1",
    "category": "figure",
    "turns": ["What is the average salary?"],
    "must_include": [["£34,131", "34131"]],
    "answerable": True,
    "cite": ["ONS ASHE"],
    "gold_chunks": ["talent-salary"],
}


def write_lines(tmp_path: Path, *lines: str, name: str = "questions.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_items(tmp_path: Path) -> None:
    unanswerable = {"id": "u", "category": "unanswerable", "turns": ["x?"], "answerable": False}
    verify = {**GOOD, "id": "v", "category": "verify", "verdict": "not quite",
              "must_not": ["£34,000"], "voice": "investor", "notes": "salary panel"}
    path = write_lines(tmp_path, json.dumps(GOOD), "", json.dumps(unanswerable), json.dumps(verify))
    first, second, third = load_items(path)
    assert first.must_include == (("£34,131", "34131"),)
    assert first.cite == ("ONS ASHE",) and first.gold_chunks == ("talent-salary",)
    assert (second.answerable, second.must_include, second.cite) == (False, (), None)
    assert second.line == 3
    assert (third.verdict, third.must_not, third.voice) == ("not quite", ("£34,000",), "investor")
    assert first.single_turn


def test_legacy_must_not_include_is_read_as_must_not(tmp_path: Path) -> None:
    path = write_lines(tmp_path, json.dumps({**GOOD, "must_not_include": ["999"]}))
    assert load_items(path)[0].must_not == ("999",)


def test_gzip_sets_load(tmp_path: Path) -> None:
    path = tmp_path / "sealed.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps(GOOD) + "\n")
    assert [i.id for i in load_items(path)] == ["fig-salary-1"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"id": "a", ', ":1: bad JSON"),
        ("[1, 2]", ":1: expected a JSON object"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "turns"}), ":1: missing field 'turns'"),
        (json.dumps({**GOOD, "answerable": "yes"}), ":1: field 'answerable' must be a bool"),
        (json.dumps({**GOOD, "must_include": ["£34,131"]}), ":1: must_include[0]: expected a list"),
        (json.dumps({**GOOD, "turns": []}), ":1: turns: expected at least one"),
        (json.dumps({**GOOD, "mustinclude": []}), ":1: unknown field(s) mustinclude"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "must_include"}), "'must_include'"),
        (json.dumps({**GOOD, "verdict": "maybe"}), ":1: verdict must be one of yes, no, not quite"),
    ],
)
def test_load_items_errors_name_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    path = write_lines(tmp_path, line)
    with pytest.raises(ChatbotError) as info:
        load_items(path)
    assert str(info.value).startswith(str(path) + ":1: ")
    assert problem in str(info.value)


def test_load_items_rejects_duplicate_ids_and_empty_files(tmp_path: Path) -> None:
    path = write_lines(tmp_path, json.dumps(GOOD), json.dumps(GOOD))
    with pytest.raises(ChatbotError, match=r":2: duplicate id 'fig-salary-1' \(first on line 1\)"):
        load_items(path)
    with pytest.raises(ChatbotError, match="no questions"):
        load_items(write_lines(tmp_path, ""))
    with pytest.raises(ChatbotError, match="cannot read"):
        load_items(tmp_path / "missing.jsonl")
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(ChatbotError, match="cannot read"):
        load_items(broken)


def test_every_registered_set_loads_and_is_well_formed() -> None:
    sets = load_register(ROOT / "eval")
    names = [s.name for s in sets]
    assert len(names) == len(set(names))
    assert {"dev", "heldout", "blind"} <= set(names)
    sealed = [s for s in sets if s.sealed]
    assert sealed and all(s.path.suffix == ".gz" for s in sealed)
    total_new = 0
    for s in sets:
        items = load_items(s.path)  # raises on any malformed line
        assert all(i.must_include for i in items if i.answerable and i.cite is None
                   and i.category != "chat"), s.name
        assert all(i.verdict for i in items if i.category in ("verify", "false_premise")), s.name
        if s.status in ("tuning", "sealed"):
            total_new += len(items)
    assert total_new >= 300  # the blind sets written for the honest-measurement issue


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{", "bad JSON"),
        ('{"sets": []}', "no eval sets registered"),
        ('{"sets": [{"name": "a", "path": "a.jsonl"}]}', "needs name, path and status"),
        ('{"sets": [{"name": "a", "path": "a.jsonl", "status": "secret"}]}', "status must be"),
        ('{"sets": [{"name": "a", "path": "a", "status": "dev", "gate": 90}]}', "gate must be"),
    ],
)
def test_bad_registers_are_named(tmp_path: Path, body: str, problem: str) -> None:
    (tmp_path / "sets.json").write_text(body, encoding="utf-8")
    with pytest.raises(ChatbotError, match=problem):
        load_register(tmp_path)
