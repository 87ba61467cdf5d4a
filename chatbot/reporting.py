"""Reporting: sum scored items up into rates; write ``report.json``, ``report.md`` and
terminal lines.

In: ``ItemResult`` values (``summarise`` gives a ``SetScore``), ``SetRun`` values (one set
scored by the engine and the baselines), an ``EditRun`` (the meaning-preserving edit suite)
and the sealed-run log. Out: rates, files and lines; nothing is judged here. Sealed sets show
aggregates only: no question, answer or failure of theirs is ever written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatbot.evalsets import EvalSet
from chatbot.scoring import DECLINE_OPENINGS, RECALL_K, ItemResult, normalise

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
#: Baseline keys in report order.
DUMP, TOP5, LANGCHAIN = "dump", "top5", "langchain"
BASELINE_NAMES = {DUMP: "dump all + perfect refusals", TOP5: "top-5 chunks",
                  LANGCHAIN: "plain LangChain"}


@dataclass(frozen=True)
class Tally:
    """Counts for one category (or a whole set)."""

    n: int = 0
    lenient: int = 0
    strict: int = 0

    def add(self, r: ItemResult) -> Tally:
        return Tally(self.n + 1, self.lenient + r.correct, self.strict + r.strict)

    @property
    def lenient_rate(self) -> float:
        return self.lenient / self.n if self.n else 0.0

    @property
    def strict_rate(self) -> float:
        return self.strict / self.n if self.n else 0.0


@dataclass(frozen=True)
class SetScore:
    """Aggregate scores of one set; rates are fractions, None when nothing to measure."""

    total: Tally
    categories: dict[str, Tally]
    refusal_precision: float | None
    refusal_recall: float | None
    citation_support_rate: float | None
    unsupported_numbers: int
    recall_at_5: float | None
    mrr: float | None
    latency_p50_ms: float
    latency_p95_ms: float
    results: list[ItemResult] = field(default_factory=list)

    @property
    def strict_failures(self) -> list[ItemResult]:
        return [r for r in self.results if not r.strict]


def summarise(results: list[ItemResult]) -> SetScore:
    """Aggregate item results. Pure."""
    total = Tally()
    categories: dict[str, Tally] = {}
    for r in results:
        total = total.add(r)
        categories[r.category] = categories.get(r.category, Tally()).add(r)
    refused = [r for r in results if declined_result(r)]
    unanswerable = [r for r in results if not r.answerable]
    true_refusals = sum(1 for r in refused if not r.answerable)
    supported = [r.citation_supported for r in results if r.citation_supported is not None]
    ranks = [r.gold_rank for r in results if r.has_gold]
    latencies = [r.latency_s * 1000 for r in results]
    return SetScore(
        total=total,
        categories=dict(sorted(categories.items())),
        refusal_precision=ratio(true_refusals, len(refused)),
        refusal_recall=ratio(true_refusals, len(unanswerable)),
        citation_support_rate=ratio(sum(supported), len(supported)),
        unsupported_numbers=sum(len(r.unsupported_numbers) for r in results),
        recall_at_5=ratio(sum(1 for k in ranks if k is not None and k <= RECALL_K), len(ranks)),
        mrr=ratio(sum(1 / k for k in ranks if k is not None), len(ranks)),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        results=list(results),
    )


def declined_result(r: ItemResult) -> bool:
    return r.refused or normalise(r.answer_text)[:80].startswith(DECLINE_OPENINGS)


def ratio(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default); 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class SetRun:
    """One set scored by the engine and by the baselines that ran."""

    eval_set: EvalSet
    ours: SetScore
    baselines: dict[str, SetScore] = field(default_factory=dict)


@dataclass(frozen=True)
class Flip:
    set_name: str
    item_id: str
    kind: str
    question: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class EditRun:
    """The meaning-preserving edit suite: per kind, how many edits were tried and flipped."""

    tried: dict[str, int]
    flipped: dict[str, int]
    items: int  # right answers the edits were applied to
    flips: list[Flip] = field(default_factory=list)

    @property
    def total_flips(self) -> int:
        return sum(self.flipped.values())


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _result_dict(r: ItemResult) -> dict[str, Any]:
    return {
        "id": r.id, "category": r.category, "lenient": r.correct, "strict": r.strict,
        "reasons": r.reasons, "turns": list(r.turns), "answer": r.answer_text, "kind": r.kind,
        "refused": r.refused, "figures": r.figures,
        "citations": [c.to_dict() for c in r.citations],
        "unsupported_numbers": r.unsupported_numbers, "gold_rank": r.gold_rank,
        "latency_ms": round(r.latency_s * 1000, 1),
    }


def score_dict(s: SetScore, with_results: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "n": s.total.n, "lenient": s.total.lenient_rate, "strict": s.total.strict_rate,
        "categories": {k: {"n": t.n, "lenient": t.lenient_rate, "strict": t.strict_rate}
                       for k, t in s.categories.items()},
        "refusal_precision": s.refusal_precision, "refusal_recall": s.refusal_recall,
        "citation_support": s.citation_support_rate, "unsupported_numbers": s.unsupported_numbers,
        "recall_at_5": s.recall_at_5, "mrr": s.mrr,
        "latency_p50_ms": round(s.latency_p50_ms, 2), "latency_p95_ms": round(s.latency_p95_ms, 2),
    }
    if with_results:
        data["results"] = [_result_dict(r) for r in s.results]
    return data


def headline_rows(runs: list[SetRun]) -> list[list[str]]:
    """One row per set: status, n, strict, lenient, the baselines (strict), refusals, speed."""
    rows = [["set", "status", "n", "strict", "lenient", *BASELINE_NAMES.values(),
             "refusal P / R", "unsupported", "p50 / p95 ms"]]
    for run in runs:
        s = run.ours
        base = [pct(run.baselines[k].total.strict_rate) if k in run.baselines else "-"
                for k in BASELINE_NAMES]
        rows.append([run.eval_set.name, run.eval_set.status, str(s.total.n),
                     pct(s.total.strict_rate), pct(s.total.lenient_rate), *base,
                     f"{pct(s.refusal_precision)} / {pct(s.refusal_recall)}",
                     str(s.unsupported_numbers),
                     f"{s.latency_p50_ms:.0f} / {s.latency_p95_ms:.0f}"])
    return rows


def category_rows(run: SetRun) -> list[list[str]]:
    rows = [["category", "n", "strict", "lenient", *(BASELINE_NAMES[k] for k in run.baselines)]]
    for name, t in run.ours.categories.items():
        base = [pct(b.categories[name].strict_rate) if name in b.categories else "-"
                for b in run.baselines.values()]
        rows.append([name, str(t.n), pct(t.strict_rate), pct(t.lenient_rate), *base])
    return rows


def edit_rows(edits: EditRun) -> list[list[str]]:
    rows = [["edit", "tried", "flipped"]]
    for kind, tried in edits.tried.items():
        rows.append([kind, str(tried), str(edits.flipped.get(kind, 0))])
    rows.append(["all", str(sum(edits.tried.values())), str(edits.total_flips)])
    return rows


def markdown_table(rows: list[list[str]]) -> list[str]:
    head, *body = rows
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return out + ["| " + " | ".join(r) + " |" for r in body]


def terminal_table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def write_report(runs: list[SetRun], out_dir: str | Path, *, edits: EditRun | None = None,
                 sealed_log: list[dict] | None = None, meta: dict | None = None,
                 confusion: dict[str, list[list[str]]] | None = None) -> Path:
    """Write ``report.json`` and ``report.md`` into ``out_dir``; return the Markdown path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"meta": meta or {}, "sets": {}}
    for run in runs:
        sealed = run.eval_set.sealed
        data["sets"][run.eval_set.name] = {
            "status": run.eval_set.status, "path": str(run.eval_set.path.name),
            "ours": score_dict(run.ours, with_results=not sealed),
            "baselines": {k: score_dict(b, with_results=False) for k, b in run.baselines.items()},
        }
    if edits is not None:
        data["edits"] = {"items": edits.items, "tried": edits.tried, "flipped": edits.flipped,
                         "flips": [f.__dict__ | {"reasons": list(f.reasons)} for f in edits.flips]}
    if sealed_log:
        data["sealed_runs"] = sealed_log
    (out / REPORT_JSON).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    (out / REPORT_MD).write_text("\n".join(_markdown(runs, edits, sealed_log, meta or {},
                                                     confusion)) + "\n", encoding="utf-8")
    return out / REPORT_MD


def _markdown(runs: list[SetRun], edits: EditRun | None, sealed_log: list[dict] | None,
              meta: dict, confusion: dict[str, list[list[str]]] | None) -> list[str]:
    md = ["# Snapshot Q&A evaluation", ""]
    if meta:
        md += [", ".join(f"{k}: {v}" for k, v in meta.items()), ""]
    md += ["Strict scoring (the number to steer by; rules in `eval/README.md`): the figure asked "
           "for, cited; at most 8 numbers (24 for lists, filters, overviews, conflicts; 2 for a "
           "chat reply); at least half the citations hold what was asked; a claim check opens "
           "with its verdict; a declined answerable question fails; a decline names what it "
           "lacks or offers something instead; no `must_not` figure. Lenient: the figure is "
           "somewhere and cited. Baselines are scored strictly: a sound scorer gives the first "
           "two almost nothing.", ""]
    md += ["## Sets", ""] + markdown_table(headline_rows(runs)) + [""]
    md += ["Status: **dev** written with the engine; **tuned** blind once, tuned on since; "
           "**tuning** written blind, open for tuning; **sealed** never opened while changing "
           "the engine (aggregates only).", ""]
    if sealed_log:
        md += ["## Sealed runs (first run after each engine change)", ""]
        rows = [["date", "commit", "set", "n", "strict", "lenient", "note"]]
        rows += [[e["date"], e["commit"], e["set"], str(e["n"]), pct(e["strict"]),
                  pct(e["lenient"]), e.get("note", "")] for e in sealed_log]
        md += markdown_table(rows) + [""]
    if edits is not None:
        md += ["## Meaning-preserving edits", "",
               f"Applied to the {edits.items} single-turn answerable questions the engine answers "
               "right (strict); a flip is an edit that makes the answer wrong.", ""]
        md += markdown_table(edit_rows(edits)) + [""]
        for f in edits.flips[:40]:
            md.append(f"- `{f.set_name}/{f.item_id}` {f.kind}: {json.dumps(f.question)} — "
                      + "; ".join(f.reasons))
        md.append("")
    for name, table in (confusion or {}).items():
        md += [f"## Intent classifier: confusion on the {name} (rows: expected, columns: read)", ""]
        md += markdown_table(table) + [""]
    for run in runs:
        md += [f"## {run.eval_set.name} ({run.eval_set.status}) by category", ""]
        md += markdown_table(category_rows(run)) + [""]
    for run in runs:
        if run.eval_set.sealed:
            continue
        fails = run.ours.strict_failures
        md += [f"## Strict failures: {run.eval_set.name} ({len(fails)})", ""]
        for r in fails:
            md += [f"### `{r.id}` ({r.category})", ""]
            md += [f"- Asked: {json.dumps(t, ensure_ascii=False)}" for t in r.turns]
            md += [f"- Wrong: {reason}" for reason in r.reasons]
            md += ["- Answer:", ""] + [f"  > {line}" for line in (r.answer_text or "(none)").split("\n")]
            md.append("")
    return md
