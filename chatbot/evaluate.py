"""Evaluate: score the chatbot's answers against the golden eval set.

In: ``eval/questions.jsonl`` (one JSON object a line: ``id``, ``category``, ``turns``,
``answerable``, ``must_include`` and optional ``cite``, ``must_not_include``,
``gold_chunks``), a factory of fresh conversations (anything with ``.ask(q) -> Answer``)
and the snapshot text.
Out: an ``ItemResult`` per question and a ``Report`` (accuracy overall and per category,
refusal precision and recall, citation support, unsupported numbers, recall@5 and MRR,
latency p50/p95, failures), written as ``report.json`` and ``report.md``; ``run`` prints a
table and returns the CLI's exit code.

Scoring (``normalise``, ``mentions``, ``score``, ``summarise``) is pure and needs no model.
The chatbot, the chunk loader and the LangChain baseline are imported only when used.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from chatbot.errors import ChatbotError, CorpusError
from chatbot.records import Answer, Chunk, Citation
from chatbot.settings import Settings

#: Retrieval cut-off for recall@k; also how many chunks the baseline retrieves.
RECALL_K = 5
REPORT_JSON = "report.json"
REPORT_MD = "report.md"

_REQUIRED = {"id": str, "category": str, "turns": list, "answerable": bool}
_OPTIONAL = {"must_include": list, "cite": list, "must_not_include": list, "gold_chunks": list}
_FREE_TEXT = {"notes"}  # tolerated, ignored: room for the eval writer's comments

# Typographic variants that must not decide a match.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2010": "-",
        "\u2011": "-",
        "\u2013": "-",  # en dash, as in "2017–21"
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
    }
)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$|<>~])")  # the snapshot writes "\$266.3m"
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d)")
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CITATION_MARKER = re.compile(r"\[\^?\d+(?:\s*[,;]\s*\d+)*\]")
_LIST_NUMBER = re.compile(r"^\s*\d{1,2}[.)](?=\s)")
_EQUATION = re.compile(r"\d\s*[-+×x*/÷]\s*\d[^=\n]*=\s*-?\d")
_CALC_LABEL = re.compile(r"^\W*(calculation|calculated|working)s?\b")


class Conversation(Protocol):
    def ask(self, question: str) -> Answer: ...


@dataclass(frozen=True)
class EvalItem:
    """One golden question (see the module docstring for the fields)."""

    id: str
    category: str
    turns: tuple[str, ...]
    answerable: bool
    must_include: tuple[tuple[str, ...], ...] = ()
    cite: tuple[str, ...] | None = None  # None: default cite check (see ``score``)
    must_not_include: tuple[str, ...] = ()
    gold_chunks: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class ItemResult:
    """How one answer scored."""

    id: str
    category: str
    answerable: bool
    correct: bool
    refused: bool  # the answer said the snapshot does not hold it (answered False)
    reasons: list[str]  # why it is wrong; empty when correct
    citation_supported: bool | None  # None: not applicable (see ``citation_support``)
    unsupported_numbers: list[str]
    gold_rank: int | None  # 1-based rank of the best gold chunk in answer.retrieved
    has_gold: bool
    latency_s: float
    turns: tuple[str, ...] = ()
    answer_text: str = ""
    citations: tuple[Citation, ...] = ()
    errored: bool = False


@dataclass(frozen=True)
class CategoryScore:
    category: str
    n: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


@dataclass(frozen=True)
class Report:
    """Aggregate scores; rates are fractions in [0, 1], None when nothing to measure."""

    n: int
    correct: int
    accuracy: float
    categories: dict[str, CategoryScore]
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
    def failures(self) -> list[ItemResult]:
        return [r for r in self.results if not r.correct]

    def to_dict(self) -> dict[str, Any]:
        skip = ("categories", "results")
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        data["categories"] = {
            c.category: {"n": c.n, "correct": c.correct, "accuracy": c.accuracy}
            for c in self.categories.values()
        }
        data["failures"] = [_result_dict(r) for r in self.failures]
        data["results"] = [
            {k: v for k, v in _result_dict(r).items() if k not in ("answer", "citations")}
            for r in self.results
        ]
        return data


# ---------------------------------------------------------------- loading


def _read_jsonl(path: str | Path, what: str, parse: Callable[[Any, str, int], Any]) -> list:
    """Parse a JSON-lines question file with ``parse``; errors name ``file:line``."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ChatbotError(f"{path}: cannot read the {what} ({exc.strerror})") from exc
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
    """Read the eval set; raise ``ChatbotError("file:line: problem")`` on bad input."""
    return _read_jsonl(path, "eval set", _parse_item)


def _parse_item(raw: Any, where: str, number: int) -> EvalItem:
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
    groups = []
    for i, group in enumerate(raw.get("must_include", [])):
        groups.append(_strings(group, f"{where}: must_include[{i}]"))
    cite = raw.get("cite")
    return EvalItem(
        id=raw["id"],
        category=raw["category"] or "uncategorised",
        turns=_strings(raw["turns"], f"{where}: turns"),
        answerable=raw["answerable"],
        must_include=tuple(groups),
        cite=None if cite is None else _strings(cite, f"{where}: cite"),
        must_not_include=_strings(
            raw.get("must_not_include", []), f"{where}: must_not_include", empty_ok=True
        ),
        gold_chunks=_strings(raw.get("gold_chunks", []), f"{where}: gold_chunks", empty_ok=True),
        line=number,
    )


def _strings(value: Any, where: str, empty_ok: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise ChatbotError(f"{where}: expected a list of non-empty strings, got {value!r}")
    if not value and not empty_ok:
        raise ChatbotError(f"{where}: expected at least one string (omit an optional field)")
    return tuple(value)


# ---------------------------------------------------------------- matching


def normalise(text: str) -> str:
    """Lower-case text with typography, Markdown bold/escapes and digit commas undone."""
    text = text.translate(_TYPOGRAPHY).replace("**", "")
    text = _DIGIT_COMMA.sub("", _MD_ESCAPE.sub(r"\1", text))
    return _SPACES.sub(" ", text).strip().casefold()


def mentions(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text``; numbers match whole ("5" is not in "5.09%")."""
    wanted = normalise(phrase)
    if not wanted:
        return False
    left = r"(?<!\d)(?<!\d\.)" if wanted[0].isdigit() else ""
    right = r"(?!\d)(?!\.\d)" if wanted[-1].isdigit() else ""
    return re.search(left + re.escape(wanted) + right, normalise(text)) is not None


def numbers_in(text: str) -> list[str]:
    """The numbers in ``text`` as normalised tokens ("£34,131" → "34131")."""
    return _NUMBER.findall(normalise(text))


@lru_cache(maxsize=4)
def _snapshot_numbers(snapshot_text: str) -> frozenset[str]:
    return frozenset(numbers_in(snapshot_text))


def unsupported_numbers(answer: Answer, snapshot_text: str) -> list[str]:
    """Numbers in the answer text that the snapshot nowhere states.

    Skipped: citation markers ("[1]"), list numbering ("1." at a line start), numbers on a
    calculation line (one holding a labelled calculation, starting "Calculation", or an
    equation "a − b = c") and numbers of ``answer.calculations``, whose results are derived.
    """
    known = _snapshot_numbers(snapshot_text)
    calculations = [normalise(c) for c in answer.calculations]
    derived = {n for c in calculations for n in numbers_in(c)}
    found: list[str] = []
    for raw_line in answer.text.splitlines():
        line = normalise(_LIST_NUMBER.sub("", _CITATION_MARKER.sub(" ", raw_line)))
        is_calculation = (
            any(c and c in line for c in calculations)
            or _CALC_LABEL.match(line) is not None
            or _EQUATION.search(line) is not None
        )
        if is_calculation:
            continue
        for number in numbers_in(line):
            if number not in known and number not in derived and number not in found:
                found.append(number)
    return found


def citation_support(item: EvalItem, answer: Answer) -> bool | None:
    """Whether a cited quote holds each ``must_include`` figure the answer states.

    Only numeric alternatives found in the answer text are checked ("twice" is not). A
    figure that is the result of a labelled calculation counts as supported when the other
    numbers of that calculation are in cited quotes. None when the item is unanswerable,
    the answer refused, or the answer states no numeric ``must_include`` figure.
    """
    stated = [
        [a for a in g if any(ch.isdigit() for ch in a) and mentions(answer.text, a)]
        for g in item.must_include
    ]
    numeric = [g for g in stated if g]
    if not item.answerable or not answer.answered or not numeric:
        return None
    quotes = " \n ".join(c.quote for c in answer.citations)
    quoted = set(numbers_in(quotes))
    derived: set[str] = set()
    for calc in answer.calculations:
        operands, _, result = normalise(calc).rpartition("=")
        if operands and all(n in quoted for n in numbers_in(operands)):
            derived.update(numbers_in(result))
    return all(
        any(mentions(quotes, alt) or set(numbers_in(alt)) <= derived for alt in group)
        for group in numeric
    )


def gold_rank(item: EvalItem, answer: Answer) -> int | None:
    """1-based rank of the best-placed gold chunk in ``answer.retrieved``; None if absent."""
    gold = set(item.gold_chunks)
    return next((i for i, cid in enumerate(answer.retrieved, start=1) if cid in gold), None)


def _cite_ok(item: EvalItem, answer: Answer) -> bool:
    if item.cite is not None:
        parts = [p for c in answer.citations for p in (c.source, c.section, c.quote)]
        return any(mentions(p, want) for p in parts for want in item.cite)
    if not item.must_include:
        return True
    if any(mentions(c.quote, alt) for c in answer.citations for alt in item.must_include[0]):
        return True
    # A labelled calculation's result is cited through its inputs (the product's own rule).
    quoted = set(numbers_in(" \n ".join(c.quote for c in answer.citations)))
    for calc in answer.calculations:
        operands, _, result = normalise(calc).rpartition("=")
        if operands and all(n in quoted for n in numbers_in(operands)):
            if any(set(numbers_in(alt)) and set(numbers_in(alt)) <= set(numbers_in(result))
                   for alt in item.must_include[0]):
                return True
    return False


def score(item: EvalItem, answer: Answer, latency_s: float, snapshot_text: str) -> ItemResult:
    """Score the last answer of a conversation against ``item``. Pure.

    Unanswerable items are correct iff the answer refused. Answerable items need an answer,
    one alternative of every ``must_include`` group, no ``must_not_include`` string and a
    passing cite check: one ``cite`` string in some citation's source, section or quote, or
    (no ``cite``) the first group's figure in some cited quote.
    """
    reasons: list[str] = []
    if not item.answerable:
        if answer.answered:
            reasons.append("answered a question the snapshot does not hold")
    elif not answer.answered:
        reasons.append("refused a question the snapshot answers")
    else:
        for group in item.must_include:
            if not any(mentions(answer.text, alt) for alt in group):
                reasons.append(f"missing one of {list(group)}")
        for bad in item.must_not_include:
            if mentions(answer.text, bad):
                reasons.append(f"contains {bad!r}")
        if not _cite_ok(item, answer):
            wanted = item.cite if item.cite is not None else item.must_include[0]
            reasons.append(f"no citation holds one of {list(wanted)}")
    return ItemResult(
        id=item.id,
        category=item.category,
        answerable=item.answerable,
        correct=not reasons,
        refused=not answer.answered,
        reasons=reasons,
        citation_supported=citation_support(item, answer),
        unsupported_numbers=unsupported_numbers(answer, snapshot_text),
        gold_rank=gold_rank(item, answer),
        has_gold=bool(item.gold_chunks),
        latency_s=latency_s,
        turns=item.turns,
        answer_text=answer.text,
        citations=tuple(answer.citations),
    )


# ---------------------------------------------------------------- running and summing up


def evaluate(
    items: Iterable[EvalItem], ask_factory: Callable[[], Conversation], corpus_text: str
) -> Report:
    """Ask every item's turns in one fresh conversation and score the last answer.

    An exception from the chatbot fails that item (with its message) instead of the run,
    so one broken question does not hide the scores of the rest.
    """
    results = []
    for item in items:
        conversation = ask_factory()
        started = time.perf_counter()
        try:
            for turn in item.turns:
                started = time.perf_counter()
                answer = conversation.ask(turn)
        except Exception as exc:  # reported as a failed item, not a crashed run
            results.append(_errored(item, exc, time.perf_counter() - started))
            continue
        results.append(score(item, answer, time.perf_counter() - started, corpus_text))
    return summarise(results)


def _errored(item: EvalItem, exc: Exception, latency_s: float) -> ItemResult:
    return ItemResult(
        id=item.id,
        category=item.category,
        answerable=item.answerable,
        correct=False,
        refused=False,
        reasons=[f"error: {type(exc).__name__}: {exc}"],
        citation_supported=None,
        unsupported_numbers=[],
        gold_rank=None,
        has_gold=bool(item.gold_chunks),
        latency_s=latency_s,
        turns=item.turns,
        errored=True,
    )


def summarise(results: Sequence[ItemResult]) -> Report:
    """Aggregate item results into a ``Report``. Pure."""
    categories: dict[str, CategoryScore] = {}
    for r in results:
        old = categories.get(r.category, CategoryScore(r.category, 0, 0))
        categories[r.category] = CategoryScore(r.category, old.n + 1, old.correct + r.correct)
    refused = [r for r in results if r.refused]
    unanswerable = [r for r in results if not r.answerable]
    true_refusals = sum(1 for r in refused if not r.answerable)
    supported = [r.citation_supported for r in results if r.citation_supported is not None]
    ranks = [r.gold_rank for r in results if r.has_gold]
    latencies = [r.latency_s * 1000 for r in results]
    correct = sum(r.correct for r in results)
    return Report(
        n=len(results),
        correct=correct,
        accuracy=correct / len(results) if results else 0.0,
        categories=dict(sorted(categories.items())),
        refusal_precision=_ratio(true_refusals, len(refused)),
        refusal_recall=_ratio(true_refusals, len(unanswerable)),
        citation_support_rate=_ratio(sum(supported), len(supported)),
        unsupported_numbers=sum(len(r.unsupported_numbers) for r in results),
        recall_at_5=_ratio(sum(1 for k in ranks if k is not None and k <= RECALL_K), len(ranks)),
        mrr=_ratio(sum(1 / k for k in ranks if k is not None), len(ranks)),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        results=list(results),
    )


def _ratio(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default); 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# ---------------------------------------------------------------- reports


def _result_dict(r: ItemResult) -> dict[str, Any]:
    return {
        "id": r.id,
        "category": r.category,
        "correct": r.correct,
        "reasons": r.reasons,
        "turns": list(r.turns),
        "answer": r.answer_text,
        "refused": r.refused,
        "citations": [c.to_dict() for c in r.citations],
        "citation_supported": r.citation_supported,
        "unsupported_numbers": r.unsupported_numbers,
        "gold_rank": r.gold_rank,
        "latency_ms": round(r.latency_s * 1000, 1),
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def headline_rows(report: Report) -> list[tuple[str, str]]:
    """(metric, formatted value) pairs shared by the terminal and report.md."""
    return [
        ("accuracy", f"{_pct(report.accuracy)} ({report.correct}/{report.n})"),
        ("refusal precision", _pct(report.refusal_precision)),
        ("refusal recall", _pct(report.refusal_recall)),
        ("citation support", _pct(report.citation_support_rate)),
        ("unsupported numbers", str(report.unsupported_numbers)),
        (f"recall@{RECALL_K}", _pct(report.recall_at_5)),
        ("MRR", "n/a" if report.mrr is None else f"{report.mrr:.3f}"),
        ("latency p50", f"{report.latency_p50_ms:.0f} ms"),
        ("latency p95", f"{report.latency_p95_ms:.0f} ms"),
    ]


def category_rows(report: Report, baseline: Report | None = None) -> list[tuple[str, ...]]:
    """(category, n, ours, baseline) rows, then an "overall" row."""
    rows = []
    for name, cat in report.categories.items():
        base = baseline.categories.get(name) if baseline else None
        rows.append((name, str(cat.n), _pct(cat.accuracy), _pct(base.accuracy) if base else "-"))
    base_all = _pct(baseline.accuracy) if baseline else "-"
    rows.append(("overall", str(report.n), _pct(report.accuracy), base_all))
    return rows


def write_report(report: Report, dir: str | Path, baseline: Report | None = None) -> Path:
    """Write ``report.json`` and ``report.md`` into ``dir``; return the Markdown path."""
    out = Path(dir)
    out.mkdir(parents=True, exist_ok=True)
    data = {"ours": report.to_dict(), "baseline": baseline.to_dict() if baseline else None}
    (out / REPORT_JSON).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    md = ["# Snapshot Q&A evaluation", "", "| metric | ours | baseline |", "|---|---|---|"]
    base_values = dict(headline_rows(baseline)) if baseline else {}
    for metric, value in headline_rows(report):
        md.append(f"| {metric} | {value} | {base_values.get(metric, '-')} |")
    md += ["", "## Accuracy per category", "", "| category | n | ours | baseline |"]
    md.append("|---|---:|---:|---:|")
    md += ["| " + " | ".join(row) + " |" for row in category_rows(report, baseline)]
    md += ["", f"## Failures ({len(report.failures)})", ""]
    for r in report.failures:
        md += [f"### `{r.id}` ({r.category})", ""]
        md += [f"- Asked: {json.dumps(t, ensure_ascii=False)}" for t in r.turns]
        md += [f"- Wrong: {reason}" for reason in r.reasons]
        md += ["- Answer:", ""] + [
            f"  > {line}" for line in (r.answer_text or "(none)").split("\n")
        ]
        for c in r.citations:
            md.append(f"- [{c.number}] {c.source or 'no source'} · {c.section}: “{c.quote}”")
        md.append("")
    path = out / REPORT_MD
    path.write_text("\n".join(md))
    return path


# ---------------------------------------------------------------- baseline


class BaselinePipeline:
    """A plain LangChain RAG baseline: dense top-5 over the same chunks, answer = best quote.

    It always answers, so it shows what our routing, refusals and grounding add.
    """

    def __init__(self, chunks: Sequence[Chunk], k: int = RECALL_K) -> None:
        if not chunks:
            raise ChatbotError("baseline: no chunks to index; check the corpus path")
        # chatbot.index first: importing it switches the Hugging Face hub off (offline model).
        from chatbot.index import model_path  # isort: skip

        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_huggingface import HuggingFaceEmbeddings

        self._chunks = list(chunks)
        self._k = k
        embeddings = HuggingFaceEmbeddings(
            model_name=model_path(),
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True},
        )
        client = chromadb.EphemeralClient(
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        )
        # Ephemeral clients share one in-process store: a unique name keeps runs apart.
        self._store = Chroma(
            collection_name=f"baseline-{uuid.uuid4().hex}",
            embedding_function=embeddings,
            client=client,
        )
        self._store.add_texts(
            [c.text for c in self._chunks],
            metadatas=[{"row": i, "chunk_id": c.chunk_id} for i, c in enumerate(self._chunks)],
            ids=[str(i) for i in range(len(self._chunks))],
        )

    def search(self, question: str) -> list[Chunk]:
        docs = self._store.similarity_search(question, k=self._k)
        return [self._chunks[int(d.metadata["row"])] for d in docs]

    def ask(self, question: str) -> Answer:
        hits = self.search(question)
        if not hits:
            return Answer(text="", answered=True, question=question)
        best = hits[0]
        citation = Citation(1, best.source, best.section, best.quote, chunk_id=best.chunk_id)
        return Answer(
            text=best.quote,
            answered=True,
            citations=[citation],
            question=question,
            retrieved=[c.chunk_id for c in hits],
        )

    def conversation(self) -> BaselinePipeline:
        """Stateless, so one object serves every conversation at no cost."""
        return self


# ---------------------------------------------------------------- CLI entry


def _baseline_conversations(settings: Settings) -> Callable[[], Conversation]:
    from chatbot.ingest import load_chunks

    return BaselinePipeline(load_chunks(settings)).conversation


def read_corpus(paths: Iterable[Path]) -> str:
    """The snapshot text(s) that answers' numbers are checked against."""
    texts = []
    for p in paths:
        try:
            texts.append(Path(p).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CorpusError(f"{p}: cannot read the snapshot ({exc.strerror})") from exc
    return "\n\n".join(texts)


def run(
    path: str | Path,
    report_dir: str | Path,
    min_accuracy: float,
    baseline: bool,
    settings: Settings,
    out: Callable[[str], None] = print,
    *,
    ask_factory: Callable[[], Conversation] | None = None,
    baseline_factory: Callable[[], Callable[[], Conversation]] | None = None,
) -> int:
    """Run the eval, write the reports, print a summary; 1 when accuracy < ``min_accuracy``.

    ``ask_factory`` and ``baseline_factory`` replace the real chatbot and baseline (tests).
    """
    if not 0.0 <= min_accuracy <= 1.0:
        raise ChatbotError(f"--min-accuracy must be between 0 and 1, not {min_accuracy}")
    items = load_items(path)
    corpus_text = read_corpus(settings.corpus_paths)
    if ask_factory is None:
        from chatbot import Chatbot

        ask_factory = Chatbot(settings).conversation
    report = evaluate(items, ask_factory, corpus_text)
    base_report = None
    if baseline:
        make_baseline = baseline_factory or (lambda: _baseline_conversations(settings))
        base_report = evaluate(items, make_baseline(), corpus_text)
    md_path = write_report(report, report_dir, base_report)
    rows = [("category", "n", "ours", "baseline"), *category_rows(report, base_report)]
    width = max(len(r[0]) for r in rows)
    for name, n, ours, base in rows:
        out(f"{name:<{width}}  {n:>4}  {ours:>7}  {base:>8}")
    out("")
    base_values = dict(headline_rows(base_report)) if base_report else {}
    for metric, value in headline_rows(report):
        extra = f"   (baseline {base_values[metric]})" if metric in base_values else ""
        out(f"{metric + ':':<21}{value}{extra}")
    out(f"Report: {md_path}")
    if report.accuracy < min_accuracy:
        out(f"FAIL: accuracy {_pct(report.accuracy)} is below {_pct(min_accuracy)}")
        return 1
    return 0


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
    return _read_jsonl(path, "retrieval set", _retrieval_item)


def _retrieval_item(raw: Any, where: str, number: int = 0) -> RetrievalItem:
    if isinstance(raw, RetrievalItem):
        return raw
    if not isinstance(raw, dict):
        raise ChatbotError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - {"id", "question", "gold_chunks"} - _FREE_TEXT)
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
        out(f"{mode:<8}  {_pct(s['recall_at_k']):>9}  {s['mrr']:>6.3f}  {s['latency_p50_ms']:>7.1f}")
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
