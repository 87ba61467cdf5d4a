"""Count the hand-written rules in the engine's code: regex literals, word-table entries and
thresholds. Data files (``chatbot/understanding/*.yml``, ``corpus/metric_overrides.csv``) are
counted apart: that is where meaning belongs.

    .venv/bin/python eval/rules.py [PATH ...]      # default: chatbot/*.py of this checkout

- regex literals: string constants given to ``re.compile``/``re.search``/… (or in a
  ``rf``-string passed to them), counted one per call site;
- word-table entries: the strings of every set/frozenset/list/tuple/dict literal holding three
  or more strings, plus the words of ``"…".split()`` lists, anywhere in the code;
- thresholds: numeric constants (other than 0, 1, -1 and 2) compared with, or assigned to
  UPPER_CASE names.
"""

from __future__ import annotations

import ast
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_RE_FUNCS = {"compile", "search", "match", "fullmatch", "sub", "subn", "findall", "finditer", "split"}
#: Modules that are not the engine (the eval harness, the UI, the CLI, the stores).
NOT_ENGINE = {"evaluate.py", "evalsets.py", "scoring.py", "baselines.py", "edits.py",
              "reporting.py", "app.py", "cli.py", "feedback.py", "export.py", "settings.py",
              "errors.py", "__init__.py",
              # the app's parts (UI, like app.py)
              "about.py", "cards.py", "charts.py", "chatbox.py", "explorer.py", "history.py"}
#: The modules a question passes through at answer time, in engine v1 and v2 (one definition
#: for both, so before and after compare like with like); the rest builds or serves the index.
ANSWER_PATH = {"question.py", "lookup.py", "conversation.py", "answer.py", "compose.py",
               "engine.py", "ground.py", "retrieve.py", "text.py", "understanding.py",
               "classify.py", "read.py", "carry.py", "facts.py", "resolve.py", "verdict.py",
               "plan.py", "derive.py", "narrate.py", "glossary.py", "suggest.py", "tuning.py", "claims.py",
               "frame.py", "terms.py", "slots.py", "premises.py"}


def _strings(node: ast.AST) -> list[str]:
    return [e.value for e in getattr(node, "elts", []) if isinstance(e, ast.Constant)
            and isinstance(e.value, str)]


def count(path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    regex = words = thresholds = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in _RE_FUNCS and \
                    isinstance(f.value, ast.Name) and f.value.id == "re" and node.args and \
                    isinstance(node.args[0], ast.Constant | ast.JoinedStr):
                regex += 1
            if isinstance(f, ast.Attribute) and f.attr == "split" and not node.args and \
                    isinstance(f.value, ast.Constant) and isinstance(f.value.value, str):
                words += len(f.value.value.split())
        elif isinstance(node, ast.Set | ast.List | ast.Tuple):
            found = _strings(node)
            if len(found) >= 3:
                words += len(found)
        elif isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            if len(keys) >= 3:
                words += len(keys)
        elif isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if isinstance(side, ast.Constant) and isinstance(side.value, int | float) and \
                        not isinstance(side.value, bool) and side.value not in (0, 1, -1, 2):
                    thresholds += 1
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if names and all(n.isupper() for n in names) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, int | float) and not isinstance(node.value.value, bool):
                thresholds += 1
    return {"regex": regex, "words": words, "thresholds": thresholds}


def data_counts(root: Path) -> dict[str, int]:
    """Entries in the understanding data and curated aliases (meaning kept as data)."""
    out = {"alias phrases": 0}
    overrides = root / "corpus" / "metric_overrides.csv"
    if overrides.exists():
        with overrides.open(encoding="utf-8") as f:
            out["alias phrases"] = sum(len([a for a in (r.get("aliases") or "").split("|") if a.strip()])
                                       for r in csv.DictReader(f))
    import yaml

    def leaves(node) -> int:
        if isinstance(node, dict):
            return sum(leaves(v) for v in node.values())
        if isinstance(node, list):
            return sum(leaves(v) for v in node)
        return 1

    for yml in sorted((root / "chatbot" / "understanding").glob("*.yml")):
        out[yml.name + " entries"] = leaves(yaml.safe_load(yml.read_text(encoding="utf-8")))
    return out


def main(argv: list[str]) -> None:
    root = Path(argv[0]) if argv else ROOT
    total = {"regex": 0, "words": 0, "thresholds": 0}
    path_total = dict(total)
    for path in sorted((root / "chatbot").glob("*.py")):
        if path.name in NOT_ENGINE:
            continue
        c = count(path)
        print(f"{path.name:<20} regex {c['regex']:>3}  word-table entries {c['words']:>4}  "
              f"thresholds {c['thresholds']:>3}")
        for k in total:
            total[k] += c[k]
            path_total[k] += c[k] if path.name in ANSWER_PATH else 0
    for name, t in (("engine total", total), ("answer path", path_total)):
        print(f"{name:<20} regex {t['regex']:>3}  word-table entries {t['words']:>4}  "
              f"thresholds {t['thresholds']:>3}")
    for k, v in data_counts(root).items():
        print(f"data: {k}: {v}")


if __name__ == "__main__":
    main(sys.argv[1:])
