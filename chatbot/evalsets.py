"""Eval sets: read question files and the register of sets (``eval/sets.json``).

In: JSON-lines question files (plain, or gzip-compressed for sealed sets) and the register.
Out: ``EvalItem`` values and ``EvalSet`` entries (name, path, status, gate).

An item is one JSON object a line::

    {"id": "…", "category": "figure", "turns": ["…", "…"], "answerable": true,
     "must_include": [["£34,131", "34131"], ["ONS ASHE"]], "must_not": ["99,999"],
     "verdict": "no", "cite": ["Talent Ecosystem"], "gold_chunks": ["…"],
     "voice": "investor", "notes": "…"}

Expectations apply to the answer to the last turn. ``must_include`` groups all need one
alternative each; an alternative written ``~£1.73m`` is a derived value matched within a
tolerance. ``verdict`` ("yes" | "no" | "not quite") is what a check of a claim must start with.

A set's status says how far it can be trusted as a measure:

- ``dev``: written alongside the engine; a regression check, not a measure.
- ``tuned``: once blind, since tuned on (its first run is recorded in ``about``).
- ``tuning``: written blind by helpers who saw only the snapshot; open for tuning.
- ``sealed``: written blind and never opened while changing the engine; scored once at the end
  of each engine change (aggregates only), each run logged in ``eval/sealed/runs.jsonl``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbot.errors import ChatbotError

#: Categories whose answers may list many figures (exempt from the per-answer figure cap).
LISTING_CATEGORIES = frozenset({"list", "filter", "overview", "conflict"})
#: Categories whose answers must open with a verdict.
VERDICT_CATEGORIES = frozenset({"verify", "false_premise"})
VERDICTS = ("yes", "no", "not quite")
STATUSES = ("dev", "tuned", "tuning", "sealed")
REGISTER = "sets.json"

_REQUIRED = {"id": str, "category": str, "turns": list, "answerable": bool}
_OPTIONAL = {"must_include": list, "cite": list, "must_not": list, "must_not_include": list,
             "gold_chunks": list, "verdict": str, "voice": str}
_FREE_TEXT = {"notes"}  # tolerated, ignored: room for the writer's comments


@dataclass(frozen=True)
class EvalItem:
    """One golden question (see the module docstring for the fields)."""

    id: str
    category: str
    turns: tuple[str, ...]
    answerable: bool
    must_include: tuple[tuple[str, ...], ...] = ()
    cite: tuple[str, ...] | None = None  # None: default cite check (see ``scoring``)
    must_not: tuple[str, ...] = ()
    gold_chunks: tuple[str, ...] = ()
    verdict: str | None = None
    voice: str = ""
    line: int = 0

    @property
    def single_turn(self) -> bool:
        return len(self.turns) == 1


@dataclass(frozen=True)
class EvalSet:
    """A registered question file."""

    name: str
    path: Path
    status: str
    gate: float | None = None  # strict accuracy CI holds the set to (None: no gate)
    about: str = ""

    @property
    def sealed(self) -> bool:
        return self.status == "sealed"


def _open_text(path: Path) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return f.read()
    return path.read_text(encoding="utf-8")


def read_jsonl(path: str | Path, what: str, parse: Callable[[Any, str, int], Any]) -> list:
    """Parse a JSON-lines file with ``parse``; errors name ``file:line``."""
    path = Path(path)
    try:
        lines = _open_text(path).splitlines()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ChatbotError(f"{path}: cannot read the {what} ({getattr(exc, 'strerror', None) or exc})"
                           ) from exc
    except UnicodeDecodeError as exc:
        raise ChatbotError(f"{path}: the {what} is not UTF-8 text") from exc
    items: list = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ChatbotError(f"{where}: bad JSON: {exc.msg} (column {exc.colno})") from exc
        item = parse(raw, where, number)
        if item.id in seen:
            raise ChatbotError(f"{where}: duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise ChatbotError(f"{path}: no questions in the {what}")
    return items


def load_items(path: str | Path) -> list[EvalItem]:
    """Read an eval set; raise ``ChatbotError("file:line: problem")`` on bad input."""
    return read_jsonl(path, "eval set", parse_item)


def parse_item(raw: Any, where: str, number: int = 0) -> EvalItem:
    """One item from its JSON object, every field checked."""
    if not isinstance(raw, dict):
        raise ChatbotError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    for key, kind in (_REQUIRED | _OPTIONAL).items():
        if key not in raw:
            if key in _REQUIRED:
                raise ChatbotError(f"{where}: missing field {key!r}")
            continue
        if not isinstance(raw[key], kind):
            got = type(raw[key]).__name__
            raise ChatbotError(f"{where}: field {key!r} must be a {kind.__name__}, not {got}")
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL) - _FREE_TEXT)
    if unknown:
        raise ChatbotError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if raw["answerable"] and "must_include" not in raw:
        raise ChatbotError(f"{where}: missing field 'must_include' (use [] for none)")
    if not raw["id"].strip():
        raise ChatbotError(f"{where}: field 'id' is empty")
    verdict = raw.get("verdict")
    if verdict is not None and verdict not in VERDICTS:
        raise ChatbotError(f"{where}: verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    groups = tuple(_strings(g, f"{where}: must_include[{i}]")
                   for i, g in enumerate(raw.get("must_include", [])))
    cite = raw.get("cite")
    must_not = raw.get("must_not", []) + raw.get("must_not_include", [])
    return EvalItem(
        id=raw["id"],
        category=raw["category"] or "uncategorised",
        turns=_strings(raw["turns"], f"{where}: turns"),
        answerable=raw["answerable"],
        must_include=groups,
        cite=None if cite is None else _strings(cite, f"{where}: cite"),
        must_not=_strings(must_not, f"{where}: must_not", empty_ok=True),
        gold_chunks=_strings(raw.get("gold_chunks", []), f"{where}: gold_chunks", empty_ok=True),
        verdict=verdict,
        voice=raw.get("voice", ""),
        line=number,
    )


def _strings(value: Any, where: str, empty_ok: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise ChatbotError(f"{where}: expected a list of non-empty strings, got {value!r}")
    if not value and not empty_ok:
        raise ChatbotError(f"{where}: expected at least one string (omit an optional field)")
    return tuple(value)


def load_register(eval_dir: str | Path) -> list[EvalSet]:
    """The sets listed in ``eval_dir/sets.json``, paths resolved against ``eval_dir``'s parent."""
    eval_dir = Path(eval_dir)
    path = eval_dir / REGISTER
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChatbotError(f"{path}: cannot read the register of eval sets ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise ChatbotError(f"{path}:{exc.lineno}: bad JSON: {exc.msg}") from exc
    sets: list[EvalSet] = []
    for i, entry in enumerate(raw.get("sets", []) if isinstance(raw, dict) else []):
        where = f"{path}: sets[{i}]"
        if not isinstance(entry, dict) or not {"name", "path", "status"} <= set(entry):
            raise ChatbotError(f"{where}: needs name, path and status")
        if entry["status"] not in STATUSES:
            raise ChatbotError(f"{where}: status must be one of {', '.join(STATUSES)}")
        gate = entry.get("gate")
        if gate is not None and not (isinstance(gate, int | float) and 0 <= gate <= 1):
            raise ChatbotError(f"{where}: gate must be a fraction between 0 and 1")
        sets.append(EvalSet(entry["name"], eval_dir.parent / entry["path"], entry["status"],
                            None if gate is None else float(gate), entry.get("about", "")))
    if not sets:
        raise ChatbotError(f"{path}: no eval sets registered")
    return sets
