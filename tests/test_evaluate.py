"""Tests for running evals: conversations per item, the edit suite, ``chatbot eval``'s run."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from chatbot.errors import ChatbotError
from chatbot.evalsets import EvalItem
from chatbot.evaluate import Options, conversations, evaluate, run, run_edits
from chatbot.records import Answer, Chunk, Citation
from chatbot.settings import Settings

SNAPSHOT = "Average salary **£34,131**\nDDI Jobs 2017-2021:\n3,321 jobs\nFDI Jobs 2017-2021:\n889 jobs\n"
SALARY_QUOTE = "Average salary **£34,131**"


def answer(text: str, quote: str) -> Answer:
    return Answer(text, True, [Citation(1, "Wavteq 2022", "Investment Ecosystem", quote)])


SCRIPT = {
    "How many DDI jobs?": answer("There were 3,321 DDI jobs [1].", "3,321 jobs"),
    "And FDI?": answer("There were 889 FDI jobs [1].", "889 jobs"),
    "What is the average salary?": answer("The average salary is £34,131 [1].", SALARY_QUOTE),
}


class FakeConversation:
    """Answers from a script (lower-cased questions too), recording what it was asked."""

    def __init__(self, log: list[list[str]] | None = None) -> None:
        self.asked: list[str] = []
        if log is not None:
            log.append(self.asked)

    def ask(self, question: str) -> Answer:
        self.asked.append(question)
        for q, a in SCRIPT.items():
            if q.lower() == question.lower():
                return a
        return Answer("The snapshot doesn't say.", False)


def item(**kw) -> EvalItem:
    values = {"id": "salary", "category": "figure", "turns": ("What is the average salary?",),
              "answerable": True, "must_include": (("£34,131", "34131"),)}
    return EvalItem(**(values | kw))


def test_multi_turn_scores_the_last_answer_in_one_conversation() -> None:
    log: list[list[str]] = []
    items = [
        item(id="follow", turns=("How many DDI jobs?", "And FDI?"), must_include=(("889",),)),
        item(id="stale", turns=("And FDI?", "How many DDI jobs?"), must_include=(("889",),)),
        item(id="salary"),
    ]
    report = evaluate(items, conversations(lambda: FakeConversation(log)), SNAPSHOT)
    assert log == [["How many DDI jobs?", "And FDI?"], ["And FDI?", "How many DDI jobs?"],
                   ["What is the average salary?"]]
    assert [r.correct for r in report.results] == [True, False, True]
    assert report.strict_failures[0].answer_text == "There were 3,321 DDI jobs [1]."


def test_an_error_fails_its_item_and_the_run_goes_on() -> None:
    class Broken:
        def ask(self, question: str) -> Answer:
            raise ChatbotError("index missing; run `chatbot build`")

    queue = iter([Broken(), FakeConversation()])
    report = evaluate([item(id="a"), item(id="b")], lambda _item: next(queue), SNAPSHOT)
    assert [r.strict for r in report.results] == [False, True]
    assert report.results[0].reasons == ["error: ChatbotError: index missing; run `chatbot build`"]
    assert report.refusal_precision is None  # an error is not a refusal


def test_edit_suite_counts_flips_per_kind() -> None:
    items = [item(), item(id="two", turns=("How many DDI jobs?", "And FDI?"))]
    factory = conversations(FakeConversation)
    scored = evaluate(items, factory, SNAPSHOT)
    edits = run_edits([("s", items, scored)], factory, SNAPSHOT)
    assert edits.items == 1  # multi-turn items are not edited
    # the fake only knows the exact question (case aside): every other edit flips
    assert edits.flipped.get("lower_case", 0) == 0 and edits.flipped.get("all_caps", 0) == 0
    assert edits.flipped["hi_before"] == 1 and edits.tried["hi_before"] == 1
    assert {f.kind for f in edits.flips} >= {"hi_before", "quick_question"}


class FakeBot:
    """What ``run`` needs of a ``Chatbot``: conversations, the corpus, a search."""

    def __init__(self) -> None:
        chunk = Chunk("salary", SALARY_QUOTE, SALARY_QUOTE, "Talent Ecosystem", "figure",
                      "ONS ASHE 2021", 0, 10)
        table = pd.DataFrame([{"label": "Average salary", "display": "£34,131", "metric_id": "s",
                               "source": "ONS ASHE 2021", "section": "Talent", "quote": SALARY_QUOTE}])
        self.corpus = SimpleNamespace(chunks=[chunk], table=table)

    def conversation(self) -> FakeConversation:
        return FakeConversation()

    def search(self, question: str, k: int = 5):
        return [SimpleNamespace(chunk=c) for c in self.corpus.chunks]


def write_set(tmp_path: Path, *items: dict) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "salary", "category": "figure", "turns": ["What is the average salary?"],
        "answerable": True, "must_include": [["£34,131"]]}
WRONG = {**GOOD, "id": "jobs", "must_include": [["5,552"]]}


@pytest.mark.parametrize(("gate", "code"), [(0.5, 0), (0.0, 0), (0.51, 1), (None, 0)])
def test_run_on_a_file_gates_on_the_strict_number(tmp_path: Path, gate, code: int) -> None:
    snapshot = tmp_path / "snapshot.txt"
    snapshot.write_text(SNAPSHOT, encoding="utf-8")
    printed: list[str] = []
    options = Options(file=write_set(tmp_path, GOOD, WRONG), report_dir=tmp_path / "out",
                      baselines=False, min_strict=gate)
    assert run(options, Settings(corpus_paths=(snapshot,)), printed.append, bot=FakeBot()) == code
    assert printed[0].split()[:5] == ["set", "status", "n", "strict", "lenient"]
    assert printed[1].split()[:5] == ["set", "dev", "2", "50.0%", "50.0%"]
    assert (tmp_path / "out" / "report.md").exists()


def test_run_on_a_file_writes_no_report_unless_asked(tmp_path: Path) -> None:
    """``chatbot eval FILE`` never overwrites the committed report."""
    options = Options(file=write_set(tmp_path, GOOD), baselines=False, edits=False)
    printed: list[str] = []
    run(options, Settings(), printed.append, bot=FakeBot(), eval_dir=tmp_path / "eval")
    assert not any(line.startswith("Report:") for line in printed)
    assert not (tmp_path / "eval").exists()


def test_sealed_sets_are_scored_only_when_asked_and_each_run_is_logged(tmp_path: Path) -> None:
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    write_set(eval_dir, GOOD, WRONG).rename(eval_dir / "open.jsonl")
    import gzip
    with gzip.open(eval_dir / "sealed.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps({**WRONG, "turns": ["A secret question?"]}) + "\n")
    (eval_dir / "sets.json").write_text(json.dumps({"sets": [
        {"name": "open", "path": "eval/open.jsonl", "status": "tuning", "gate": 0.5},
        {"name": "closed", "path": "eval/sealed.jsonl.gz", "status": "sealed"}]}))
    printed: list[str] = []
    opts = Options(baselines=False)
    assert run(opts, Settings(), printed.append, bot=FakeBot(), eval_dir=eval_dir) == 0
    assert not any(line.startswith("closed") for line in printed)
    assert not (eval_dir / "sealed" / "runs.jsonl").exists()
    opts = Options(baselines=False, sealed=True, note="first run")
    run(opts, Settings(), printed.append, bot=FakeBot(), eval_dir=eval_dir)
    log = [json.loads(x) for x in (eval_dir / "sealed" / "runs.jsonl").read_text().splitlines()]
    assert [(e["set"], e["n"], e["strict"], e["note"]) for e in log] == [("closed", 1, 0.0, "first run")]
    md = (eval_dir / "report.md").read_text()
    assert "closed" in md and "A secret question" not in md  # aggregates only
    assert "A secret question" not in (eval_dir / "report.json").read_text()


def test_run_rejects_a_percentage_for_a_gate(tmp_path: Path) -> None:
    with pytest.raises(ChatbotError, match="between 0 and 1"):
        run(Options(file=tmp_path / "q.jsonl", min_strict=80), Settings(), bot=FakeBot())
