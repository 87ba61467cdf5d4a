"""Evaluate: ask the eval sets, score every answer, run the baselines and the edit suite.

In: the register of sets (``eval/sets.json``) or one question file, a conversation factory
(anything with ``.ask(q) -> Answer``) and the snapshot text. Out: ``SetRun`` values, an
``EditRun``, the report files (``reporting``) and the CLI's exit code. Loading lives in
``evalsets``, judging in ``scoring``, the baselines in ``baselines``.

Also here: the retrieval eval (``chatbot search-eval``), which scores the retriever alone.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from chatbot.edits import edits_of
from chatbot.errors import ChatbotError, CorpusError
from chatbot.evalsets import EvalItem, EvalSet, load_items, load_register, read_jsonl
from chatbot.records import Answer
from chatbot.reporting import (
    DUMP,
    LANGCHAIN,
    TOP5,
    EditRun,
    Flip,
    SetRun,
    SetScore,
    edit_rows,
    headline_rows,
    pct,
    percentile,
    summarise,
    terminal_table,
    write_report,
)
from chatbot.scoring import RECALL_K, ItemResult, errored, score
from chatbot.settings import ROOT, Settings

SEALED_LOG = "sealed/runs.jsonl"
#: Categories the edit suite leaves out: a greeting added to a greeting changes its meaning.
EDIT_SKIP = frozenset({"chat"})


class Conversation(Protocol):
    def ask(self, question: str) -> Answer: ...


Factory = Callable[[EvalItem], Conversation]


def conversations(new: Callable[[], Conversation]) -> Factory:
    """A factory that ignores the item: a fresh conversation for each."""
    return lambda _item: new()


def ask_item(item: EvalItem, factory: Factory, corpus_text: str) -> ItemResult:
    """Ask every turn of ``item`` in one fresh conversation and score the last answer.

    An exception from the chatbot fails that item (with its message) instead of the run.
    """
    conversation = factory(item)
    started = time.perf_counter()
    try:
        answer = None
        for turn in item.turns:
            started = time.perf_counter()
            answer = conversation.ask(turn)
    except Exception as exc:  # reported as a failed item, not a crashed run
        return errored(item, exc, time.perf_counter() - started)
    return score(item, answer, time.perf_counter() - started, corpus_text)


def evaluate(items: Iterable[EvalItem], factory: Factory, corpus_text: str) -> SetScore:
    """Score every item (see ``ask_item``)."""
    return summarise([ask_item(item, factory, corpus_text) for item in items])


def run_edits(sets: Sequence[tuple[str, list[EvalItem], SetScore]], factory: Factory,
              corpus_text: str) -> EditRun:
    """Apply every meaning-preserving edit to each single-turn answerable item answered right
    (strict) and count the edits that make the answer wrong."""
    tried: dict[str, int] = {}
    flipped: dict[str, int] = {}
    flips: list[Flip] = []
    n_items = 0
    for set_name, items, scored in sets:
        right = {r.id for r in scored.results if r.strict}
        for item in items:
            if not (item.single_turn and item.answerable and item.id in right
                    and item.category not in EDIT_SKIP):
                continue
            n_items += 1
            for kind, question in edits_of(item.turns[0]):
                tried[kind] = tried.get(kind, 0) + 1
                edited = EvalItem(**{**item.__dict__, "turns": (question,)})
                result = ask_item(edited, factory, corpus_text)
                if not result.strict:
                    flipped[kind] = flipped.get(kind, 0) + 1
                    flips.append(Flip(set_name, item.id, kind, question, tuple(result.reasons)))
    return EditRun(tried, flipped, n_items, flips)


# ---------------------------------------------------------------- the CLI's eval


@dataclass(frozen=True)
class Options:
    """What ``chatbot eval`` runs."""

    file: Path | None = None  # one question file instead of the register
    report_dir: Path | None = None  # None: the register's folder when no file, else no files
    sealed: bool = False  # also score the sealed sets (aggregates only; the run is logged)
    note: str = ""  # logged with a sealed run ("engine v2, first run")
    baselines: bool = True  # the plain LangChain baseline (the sanity baselines always run)
    edits: bool = True
    min_strict: float | None = None  # a file's gate; the register's sets carry their own


def read_corpus(paths: Iterable[Path]) -> str:
    """The snapshot text(s) that answers' numbers are checked against."""
    texts = []
    for p in paths:
        try:
            texts.append(Path(p).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CorpusError(f"{p}: cannot read the snapshot ({exc.strerror})") from exc
    return "\n\n".join(texts)


def _commit() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, timeout=10, check=False)
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def sanity_baselines(bot) -> dict[str, Factory]:
    """The two baselines a sound strict scorer must fail (see ``baselines``)."""
    from chatbot.baselines import DumpAll, TopChunks

    rows = bot.corpus.table.to_dict("records")
    return {DUMP: DumpAll(bot.corpus.chunks, rows),
            TOP5: TopChunks(lambda q: [h.chunk for h in bot.search(q, 5)])}


def run(options: Options, settings: Settings, out: Callable[[str], None] = print, *,
        bot=None, eval_dir: Path = ROOT / "eval") -> int:
    """``chatbot eval``: score, report, gate. Returns the exit code (1 below a gate)."""
    if options.min_strict is not None and not 0.0 <= options.min_strict <= 1.0:
        raise ChatbotError(f"--min-strict must be between 0 and 1, not {options.min_strict}")
    if options.file is not None:
        sets = [EvalSet(Path(options.file).stem, Path(options.file), "dev", options.min_strict)]
    else:
        sets = [s for s in load_register(eval_dir) if options.sealed or not s.sealed]
    loaded = [(s, load_items(s.path)) for s in sets]
    corpus_text = read_corpus(settings.corpus_paths)
    if bot is None:
        from chatbot import Chatbot

        bot = Chatbot(settings)
    ours = conversations(bot.conversation)
    others = sanity_baselines(bot)
    if options.baselines:
        from chatbot.baselines import LangChainDense

        others[LANGCHAIN] = LangChainDense(bot.corpus.chunks)
    runs = [SetRun(s, evaluate(items, ours, corpus_text),
                   {k: evaluate(items, f, corpus_text) for k, f in others.items()})
            for s, items in loaded]
    edits = None
    if options.edits:
        edits = run_edits([(r.eval_set.name, items, r.ours) for r, (_s, items) in
                           zip(runs, loaded, strict=True) if not r.eval_set.sealed],
                          ours, corpus_text)
    meta = {"date": dt.date.today().isoformat(), "commit": _commit()}
    log = _log_sealed(runs, eval_dir, meta, options.note) if options.file is None else []
    report_dir = options.report_dir or (None if options.file else eval_dir)
    for line in terminal_table(headline_rows(runs)):
        out(line)
    if edits is not None:
        out(f"meaning-preserving edits: {edits.total_flips} flips in "
            f"{sum(edits.tried.values())} edits of {edits.items} right answers")
        for row in edit_rows(edits)[1:-1]:
            if row[2] != "0":
                out(f"  {row[0]}: {row[2]} of {row[1]}")
    if report_dir is not None:
        path = write_report(runs, report_dir, edits=edits, sealed_log=log, meta=meta,
                            confusion=_confusion(bot, loaded))
        out(f"Report: {path}")
    failed = [r for r in runs if r.eval_set.gate is not None
              and r.ours.total.strict_rate < r.eval_set.gate]
    for r in failed:
        out(f"FAIL: {r.eval_set.name} strict {pct(r.ours.total.strict_rate)} is below its gate "
            f"{pct(r.eval_set.gate)}")
    return 1 if failed else 0


def _confusion(bot, loaded) -> dict[str, list[list[str]]] | None:
    """The intent classifier's confusion matrices, when the engine has one: on the open sets
    and on the sealed ones (counts only: no sealed question is shown)."""
    confusion = getattr(bot, "confusion", None)
    if confusion is None:
        return None
    out = {}
    for name, sealed in (("open sets", False), ("sealed sets", True)):
        items = [it for s, items in loaded if s.sealed == sealed for it in items]
        if items:
            out[name] = confusion(items)
    return out


def _log_sealed(runs: list[SetRun], eval_dir: Path, meta: dict, note: str) -> list[dict]:
    """Append this run's sealed scores to the log; return the whole log."""
    path = eval_dir / SEALED_LOG
    entries = []
    for r in runs:
        if r.eval_set.sealed:
            entries.append({**meta, "set": r.eval_set.name, "n": r.ours.total.n,
                            "strict": round(r.ours.total.strict_rate, 4),
                            "lenient": round(r.ours.total.lenient_rate, 4), "note": note})
    if entries:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            for e in entries:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------- retrieval eval
#
# ``eval/retrieval.jsonl`` scores the retriever alone: one JSON object a line with ``id``,
# ``question`` and ``gold_chunks`` (the chunk ids that answer it; any one counts).

#: Retrieval modes compared by ``retrieval_run``, in table order.
RETRIEVAL_MODES = ("dense", "bm25", "hybrid")


@dataclass(frozen=True)
class RetrievalItem:
    """One labelled retrieval question."""

    id: str
    question: str
    gold_chunks: tuple[str, ...]
    line: int = 0


def load_retrieval_items(path: str | Path) -> list[RetrievalItem]:
    """Read a retrieval set; raise ``ChatbotError("file:line: problem")`` on bad input."""
    return read_jsonl(path, "retrieval set", _retrieval_item)


def _retrieval_item(raw: Any, where: str, number: int = 0) -> RetrievalItem:
    if isinstance(raw, RetrievalItem):
        return raw
    if not isinstance(raw, dict):
        raise ChatbotError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - {"id", "question", "gold_chunks"} - {"notes"})
    if unknown:
        raise ChatbotError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key in ("id", "question"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ChatbotError(f"{where}: field {key!r} must be a non-empty string")
    gold = raw.get("gold_chunks")
    if not isinstance(gold, list) or not gold or not all(isinstance(g, str) and g for g in gold):
        raise ChatbotError(f"{where}: field 'gold_chunks' must be a non-empty list of chunk ids")
    return RetrievalItem(raw["id"], raw["question"], tuple(gold), number)


def retrieval_scores(items: Sequence[RetrievalItem | dict], search: Callable[[str], Sequence[Any]],
                     k: int = RECALL_K) -> dict[str, Any]:
    """Recall@k, MRR and per-item ranks of ``search(question) -> [Hit]`` over labelled items.

    An item's rank is the 1-based position of its first gold chunk among the hits ``search``
    returns (None when absent), so MRR is cut off at however many hits ``search`` gives.
    Also times every call: ``latency_p50_ms``.
    """
    parsed = [_retrieval_item(it, f"item {i}") for i, it in enumerate(items, start=1)]
    if not parsed:
        raise ChatbotError("retrieval_scores: no items to score")
    ranks: dict[str, int | None] = {}
    latencies: list[float] = []
    for item in parsed:
        started = time.perf_counter()
        hits = search(item.question)
        latencies.append((time.perf_counter() - started) * 1000)
        ids = [h.chunk.chunk_id for h in hits]
        gold = set(item.gold_chunks)
        ranks[item.id] = next((r for r, cid in enumerate(ids, start=1) if cid in gold), None)
    n = len(parsed)
    found = [r for r in ranks.values() if r is not None]
    return {
        "n": n,
        "k": k,
        "recall_at_k": sum(1 for r in found if r <= k) / n,
        "mrr": sum(1 / r for r in found) / n,
        "ranks": ranks,
        "misses": [i for i, r in ranks.items() if r is None or r > k],
        "latency_p50_ms": percentile(latencies, 50),
    }


def retrieval_run(path: str | Path, settings: Settings, out: Callable[[str], None] = print,
                  k: int = RECALL_K) -> int:
    """``chatbot search-eval``: dense, BM25 and hybrid side by side on a retrieval set.

    Prints recall@k, MRR and query latency p50 per mode, then the items that some mode ranks
    below first place. Query vectors are not cached across modes, so each mode's latency
    includes embedding the question. Returns the CLI's exit code (0).
    """
    from chatbot.engine import Chatbot

    items = load_retrieval_items(path)
    bot = Chatbot(settings)
    if not bot.wait_ready():
        bot.search(items[0].question, k, mode="dense")  # raises the loader's error, if any
        raise ChatbotError("dense retrieval is switched off (CHATBOT_DENSE); search-eval "
                           "compares dense, BM25 and hybrid, so it needs the vector index")
    bot.search(items[0].question, k, mode="hybrid")  # warm up the ONNX session
    scores: dict[str, dict[str, Any]] = {}
    for mode in RETRIEVAL_MODES:
        dense = bot.retriever.dense
        if dense is not None:
            dense.clear_cache()
        scores[mode] = retrieval_scores(items, lambda q, m=mode: bot.search(q, k, mode=m), k)
    out(f"{len(items)} questions from {path}")
    out(f"{'mode':<8}  {f'recall@{k}':>9}  {'MRR':>6}  {'p50 ms':>7}")
    for mode, s in scores.items():
        out(f"{mode:<8}  {pct(s['recall_at_k']):>9}  {s['mrr']:>6.3f}  {s['latency_p50_ms']:>7.1f}")
    weak = [it for it in items if any(s["ranks"][it.id] != 1 for s in scores.values())]
    if weak:
        out("")
        out(f"ranks below first place ('-' = not in the top {k}):")
        out(f"{'id':<24}  " + "  ".join(f"{m:>6}" for m in RETRIEVAL_MODES) + "  question")
        for it in weak:
            cells = "  ".join(f"{_rank_cell(scores[m]['ranks'][it.id]):>6}" for m in RETRIEVAL_MODES)
            out(f"{it.id:<24}  {cells}  {it.question}")
    return 0


def _rank_cell(rank: int | None) -> str:
    return "-" if rank is None else str(rank)
