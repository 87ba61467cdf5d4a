"""Tests for the eval harness: pure scoring with fake answers, no model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatbot.errors import ChatbotError
from chatbot.evaluate import (
    EvalItem,
    ItemResult,
    citation_support,
    evaluate,
    gold_rank,
    load_items,
    mentions,
    percentile,
    run,
    score,
    summarise,
    unsupported_numbers,
    write_report,
)
from chatbot.records import Answer, Citation
from chatbot.settings import Settings

SNAPSHOT = (
    "Average salary **£34,131**\nNational average £46,894 (27.2% lower in Midlands).\n"
    "DDI Jobs 2017-2021:\n3,321 jobs\nFDI Jobs 2017-2021:\n889 jobs\n"
    "Relevant Spinouts:² **5**\nraised just 5.09% of the total equity\n"
)
SALARY_QUOTE = "Average salary **£34,131**"


def cite(quote: str, source: str = "", section: str = "", number: int = 1) -> Citation:
    return Citation(number=number, source=source, section=section, quote=quote)


def answer(text: str, answered: bool = True, citations=(), **kw) -> Answer:
    return Answer(text=text, answered=answered, citations=list(citations), **kw)


def item(**kw) -> EvalItem:
    values = {
        "id": "q1",
        "category": "figure",
        "turns": ("What is the average salary?",),
        "answerable": True,
        "must_include": (("£34,131", "34131"),),
    }
    values.update(kw)
    return EvalItem(**values)


def judge(it: EvalItem, ans: Answer) -> ItemResult:
    return score(it, ans, 0.01, SNAPSHOT)


# ---------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("The average salary is £34,131.", "34131", True),
        ("The average salary is £34131.", "£34,131", True),
        ("It is £34,131 [1].", "£34,131", True),
        ("There were 2432 more.", "2,432", True),
        ("There were 2,432 more.", "2432", True),
        ("There are 5 relevant spinouts.", "5", True),
        ("Relevant spinouts: 5.", "5", True),
        ("They raised just 5.09% of equity.", "5", False),
        ("That is 15% of the UK total.", "5", False),
        ("There were 522 of them.", "5", False),
        ("There are 5,552 employees.", "5", False),
        ("There are 5,552 employees.", "552", False),
        ("Mean fundraising £11.2m.", "1.2", False),
        ("Mean fundraising £1.2m.", "1.2", True),
        ("£1.25m", "£1.2m", False),
        ("Funding of £16m since 2005.", "16m", True),
        ("Salary is **£34,131**.", "salary is £34,131", True),
        ("The gap is −27.2%.", "-27.2%", True),
        ("QS ‘Life Sciences’ ranking", "qs 'life sciences'", True),
        ("£34,131\u00a0average", "£34,131 average", True),
        ("DDI capex was \\$544.21m", "$544.21m", True),
        ("MEDILINK Midlands", "medilink midlands", True),
        ("Jobs 2017–21", "2017-21", True),
        ("Nothing here.", "34131", False),
    ],
)
def test_mentions(text: str, phrase: str, expected: bool) -> None:
    assert mentions(text, phrase) is expected


# ---------------------------------------------------------------- scoring


@pytest.mark.parametrize(
    ("text", "correct", "reason"),
    [
        ("The average salary is £34,131 (ONS ASHE) [1].", True, None),
        ("The average salary is 34131 per year, says ONS ASHE [1].", True, None),
        ("The average salary is £34,131 [1].", False, "missing one of ['ONS ASHE']"),
        ("The ONS ASHE figure is £46,894 [1].", False, "missing one of ['£34,131', '34131']"),
    ],
)
def test_every_group_needs_one_alternative(text: str, correct: bool, reason: str | None) -> None:
    it = item(must_include=(("£34,131", "34131"), ("ONS ASHE",)))
    result = judge(it, answer(text, citations=[cite(SALARY_QUOTE)]))
    assert result.correct is correct
    assert result.reasons == ([] if reason is None else [reason])


@pytest.mark.parametrize(
    ("text", "correct"),
    [
        ("The average salary is £34,131 [1].", True),
        ("As you insist, £999,999; the snapshot says £34,131 [1].", False),
        ("The snapshot says £34,131, not 999999 [1].", False),
    ],
)
def test_must_not_include(text: str, correct: bool) -> None:
    it = item(must_not_include=("999,999",))
    result = judge(it, answer(text, citations=[cite(SALARY_QUOTE)]))
    assert result.correct is correct
    assert result.correct or result.reasons == ["contains '999,999'"]


@pytest.mark.parametrize(
    ("answerable", "answered", "correct", "refused"),
    [
        (False, False, True, True),  # refusing what the snapshot lacks is right
        (False, True, False, False),
        (True, False, False, True),  # refusing what the snapshot holds is wrong
        (True, True, True, False),
    ],
)
def test_refusals(answerable: bool, answered: bool, correct: bool, refused: bool) -> None:
    it = item(answerable=answerable, must_include=() if not answerable else (("£34,131",),))
    text = "The average salary is £34,131 [1]." if answered else "The snapshot does not say."
    cites = [cite(SALARY_QUOTE)] if answered else []
    result = judge(it, answer(text, answered=answered, citations=cites))
    assert (result.correct, result.refused) == (correct, refused)


@pytest.mark.parametrize(
    ("must_include", "cite_field", "citations", "correct"),
    [
        # default: the first group's figure must be in some cited quote
        ((("£34,131",),), None, [cite(SALARY_QUOTE)], True),
        ((("£34,131",),), None, [cite("National average £46,894", "ONS ASHE")], False),
        ((("£34,131",),), None, [], False),
        # explicit cite: any of the strings in a citation's source, section or quote
        ((("£34,131",),), ("ons ashe",), [cite("x", source="ONS ASHE, 2021")], True),
        ((("£34,131",),), ("Talent Ecosystem",), [cite("x", section="Talent Ecosystem")], True),
        ((("£34,131",),), ("Wavteq",), [cite(SALARY_QUOTE, source="ONS ASHE")], False),
        # nothing to check: no must_include and no cite
        ((), None, [], True),
    ],
)
def test_cite_check(must_include, cite_field, citations, correct: bool) -> None:
    it = item(must_include=must_include, cite=cite_field)
    result = judge(it, answer("The average salary is £34,131 [1].", citations=citations))
    assert result.correct is correct
    assert correct or result.reasons[0].startswith("no citation holds one of")


@pytest.mark.parametrize(
    ("must_include", "text", "citations", "calculations", "expected"),
    [
        ((("£34,131",),), "It is £34,131 [1].", [cite(SALARY_QUOTE)], [], True),
        ((("£34,131",),), "It is £34,131 [1].", [cite("National average £46,894")], [], False),
        ((("£34,131",), ("27.2%",)), "£34,131, 27.2% lower", [cite(SALARY_QUOTE)], [], False),
        ((("Medilink",),), "Medilink Midlands [1].", [cite("Medilink Midlands")], [], None),
        ((("2.04", "twice"),), "DDI capex is twice FDI capex [1].", [cite("x")], [], None),
        # a derived figure is supported by a calculation over quoted numbers
        (
            (("2,432",),),
            "2,432 more DDI jobs [1][2].",
            [
                cite("DDI Jobs 2017-2021: 3,321 jobs"),
                cite("FDI Jobs 2017-2021: 889 jobs", number=2),
            ],
            ["3,321 − 889 = 2,432"],
            True,
        ),
        ((("2,432",),), "2,432 more DDI jobs.", [cite("889 jobs")], ["3,321 − 889 = 2,432"], False),
    ],
)
def test_citation_support(must_include, text, citations, calculations, expected) -> None:
    it = item(must_include=must_include)
    ans = answer(text, citations=citations, calculations=calculations)
    assert citation_support(it, ans) is expected


def test_citation_support_not_applicable_to_refusals() -> None:
    assert citation_support(item(), answer("Not in the snapshot.", answered=False)) is None
    assert citation_support(item(answerable=False), answer("£34,131")) is None


@pytest.mark.parametrize(
    ("text", "calculations", "expected"),
    [
        ("The average salary is £34,131 [1].", [], []),
        ("The average salary is £34,132 [1].", [], ["34132"]),
        ("There are 99,999 jobs and 5 spinouts [1][2].", [], ["99999"]),
        ("Spinouts: 5 [12].", [], []),  # citation markers are not figures
        ("1. **Strategy:** 3,321 jobs\n2. Finance", [], []),  # list numbering
        (
            "The gap is 2,432 jobs [1][2].\nCalculation: 3,321 − 889 = 2,432",
            ["3,321 − 889 = 2,432"],
            [],
        ),
        ("Working: 3,321 − 889 = 2,432 (DDI minus FDI jobs)", [], []),
        ("3,321 − 889 = 2,432, so 2,432 more.", [], []),
        ("The gap is 2,432 jobs.", [], ["2432"]),  # a result with no calculation behind it
        ("It was 46,894 − 34,131 = 12,763; also 777 firms.\nAnd 888 more.", [], ["888"]),
    ],
)
def test_unsupported_numbers(text: str, calculations: list[str], expected: list[str]) -> None:
    assert unsupported_numbers(answer(text, calculations=calculations), SNAPSHOT) == expected


@pytest.mark.parametrize(
    ("retrieved", "gold", "rank"),
    [
        (["a", "b", "gold2", "gold1"], ("gold1", "gold2"), 3),
        (["gold1", "b"], ("gold1",), 1),
        (["a", "b"], ("gold1",), None),
        (["a"], (), None),
    ],
)
def test_gold_rank(retrieved: list[str], gold: tuple[str, ...], rank: int | None) -> None:
    assert gold_rank(item(gold_chunks=gold), answer("x", retrieved=retrieved)) == rank


# ---------------------------------------------------------------- aggregation


def result(**kw) -> ItemResult:
    values = {
        "id": "r",
        "category": "figure",
        "answerable": True,
        "correct": True,
        "refused": False,
        "reasons": [],
        "citation_supported": None,
        "unsupported_numbers": [],
        "gold_rank": None,
        "has_gold": False,
        "latency_s": 0.1,
    }
    values.update(kw)
    return ItemResult(**values)


def test_refusal_precision_and_recall() -> None:
    results = [
        result(answerable=False, refused=True, category="unanswerable"),  # true refusal
        result(answerable=False, refused=True, category="unanswerable"),  # true refusal
        result(answerable=True, refused=True, correct=False),  # false refusal
        result(answerable=False, refused=False, correct=False, category="unanswerable"),
        result(answerable=False, refused=False, correct=False, category="unanswerable"),
        result(answerable=True, refused=False),
    ]
    report = summarise(results)
    assert report.refusal_precision == pytest.approx(2 / 3)
    assert report.refusal_recall == pytest.approx(2 / 4)
    assert report.accuracy == pytest.approx(3 / 6)
    assert report.categories["figure"].n == 2
    assert report.categories["unanswerable"].accuracy == pytest.approx(2 / 4)


def test_rates_are_none_when_nothing_to_measure() -> None:
    report = summarise([result(), result(correct=False)])
    assert report.refusal_precision is None
    assert report.refusal_recall is None
    assert report.citation_support_rate is None
    assert report.recall_at_5 is None and report.mrr is None


def test_recall_at_5_and_mrr() -> None:
    ranks = [1, 5, 6, None]
    results = [result(has_gold=True, gold_rank=r) for r in ranks] + [result(has_gold=False)]
    report = summarise(results)
    assert report.recall_at_5 == pytest.approx(2 / 4)
    assert report.mrr == pytest.approx((1 + 1 / 5 + 1 / 6 + 0) / 4)


def test_citation_support_rate_and_unsupported_count() -> None:
    report = summarise(
        [
            result(citation_supported=True, unsupported_numbers=["1", "2"]),
            result(citation_supported=False, unsupported_numbers=["3"]),
            result(citation_supported=None),
        ]
    )
    assert report.citation_support_rate == pytest.approx(1 / 2)
    assert report.unsupported_numbers == 3


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([10, 20, 30, 40], 50, 25.0), ([10, 20, 30, 40], 95, 38.5), ([7], 95, 7.0), ([], 50, 0.0)],
)
def test_percentile(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


# ---------------------------------------------------------------- conversations


class FakeConversation:
    """Answers from a script, recording the questions in the order asked."""

    def __init__(self, log: list[list[str]], script: dict[str, Answer]) -> None:
        self.asked: list[str] = []
        self.script = script
        log.append(self.asked)

    def ask(self, question: str) -> Answer:
        self.asked.append(question)
        return self.script[question]


SCRIPT = {
    "How many DDI jobs?": answer(
        "There were 3,321 DDI jobs [1].", citations=[cite("3,321 jobs", "Wavteq 2022")]
    ),
    "And FDI?": answer("There were 889 FDI jobs [1].", citations=[cite("889 jobs", "Wavteq 2022")]),
    "What is the average salary?": answer(
        "The average salary is £34,131 [1].", citations=[cite(SALARY_QUOTE, "ONS ASHE")]
    ),
}


def test_multi_turn_scores_the_last_answer_in_one_conversation() -> None:
    log: list[list[str]] = []
    items = [
        item(id="follow", turns=("How many DDI jobs?", "And FDI?"), must_include=(("889",),)),
        item(id="stale", turns=("And FDI?", "How many DDI jobs?"), must_include=(("889",),)),
        item(id="salary"),
    ]
    report = evaluate(items, lambda: FakeConversation(log, SCRIPT), SNAPSHOT)
    assert log == [
        ["How many DDI jobs?", "And FDI?"],
        ["And FDI?", "How many DDI jobs?"],
        ["What is the average salary?"],
    ]
    assert [r.correct for r in report.results] == [True, False, True]
    assert report.failures[0].answer_text == "There were 3,321 DDI jobs [1]."


def test_an_error_fails_its_item_and_the_run_goes_on() -> None:
    class Broken:
        def ask(self, question: str) -> Answer:
            raise ChatbotError("index missing; run `chatbot build`")

    conversations = iter([Broken(), FakeConversation([], SCRIPT)])
    report = evaluate([item(id="a"), item(id="b")], lambda: next(conversations), SNAPSHOT)
    assert [r.correct for r in report.results] == [False, True]
    assert report.results[0].reasons == ["error: ChatbotError: index missing; run `chatbot build`"]
    assert report.refusal_precision is None  # an error is not a refusal


# ---------------------------------------------------------------- loading


GOOD = {
    "id": "fig-salary-1",
    "category": "figure",
    "turns": ["What is the average salary?"],
    "must_include": [["£34,131", "34131"]],
    "answerable": True,
    "cite": ["ONS ASHE"],
    "gold_chunks": ["talent-salary"],
}


def write_lines(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_items(tmp_path: Path) -> None:
    unanswerable = {"id": "u", "category": "unanswerable", "turns": ["x?"], "answerable": False}
    path = write_lines(tmp_path, json.dumps(GOOD), "", json.dumps(unanswerable))
    first, second = load_items(path)
    assert first.must_include == (("£34,131", "34131"),)
    assert first.cite == ("ONS ASHE",) and first.gold_chunks == ("talent-salary",)
    assert (second.answerable, second.must_include, second.cite) == (False, (), None)
    assert second.line == 3


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


def test_the_project_eval_set_loads() -> None:
    items = load_items(Path(__file__).resolve().parent.parent / "eval" / "questions.jsonl")
    assert any(not i.answerable for i in items)
    assert all(i.must_include for i in items if i.answerable and i.cite is None)


# ---------------------------------------------------------------- reports and run


def two_item_report() -> tuple[list[EvalItem], object]:
    items = [item(id="salary"), item(id="fdi", category="followup", turns=("And FDI?",))]
    return items, evaluate(items, lambda: FakeConversation([], SCRIPT), SNAPSHOT)


def test_write_report(tmp_path: Path) -> None:
    _, report = two_item_report()
    baseline = summarise(
        [result(id="salary", correct=False), result(id="fdi", category="followup")]
    )
    md_path = write_report(report, tmp_path / "out", baseline)
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["ours"]["accuracy"] == pytest.approx(0.5)
    assert data["baseline"]["accuracy"] == pytest.approx(0.5)
    assert [f["id"] for f in data["ours"]["failures"]] == ["fdi"]
    assert data["ours"]["failures"][0]["citations"][0]["quote"] == "889 jobs"
    md = md_path.read_text()
    assert "| category | n | ours | baseline |" in md
    assert "| figure | 1 | 100.0% | 0.0% |" in md
    assert "| followup | 1 | 0.0% | 100.0% |" in md
    assert "### `fdi` (followup)" in md and "There were 889 FDI jobs [1]." in md


def test_write_report_without_baseline(tmp_path: Path) -> None:
    _, report = two_item_report()
    write_report(report, tmp_path)
    assert json.loads((tmp_path / "report.json").read_text())["baseline"] is None
    assert "| figure | 1 | 100.0% | - |" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(("min_accuracy", "code"), [(0.5, 0), (0.0, 0), (0.51, 1), (1.0, 1)])
def test_run_exit_code(tmp_path: Path, min_accuracy: float, code: int) -> None:
    snapshot = tmp_path / "snapshot.txt"
    snapshot.write_text(SNAPSHOT, encoding="utf-8")
    questions = write_lines(
        tmp_path,
        json.dumps(GOOD),
        json.dumps({**GOOD, "id": "fdi", "category": "followup", "turns": ["And FDI?"]}),
    )
    printed: list[str] = []
    exit_code = run(
        questions,
        tmp_path / "report",
        min_accuracy,
        True,
        Settings(corpus_paths=(snapshot,)),
        out=printed.append,
        ask_factory=lambda: FakeConversation([], SCRIPT),
        baseline_factory=lambda: lambda: FakeConversation([], SCRIPT),
    )
    assert exit_code == code
    assert printed[0].split() == ["category", "n", "ours", "baseline"]
    assert printed[1].split() == ["figure", "1", "100.0%", "100.0%"]
    assert any(line.startswith("accuracy:") and "50.0% (1/2)" in line for line in printed)
    assert (tmp_path / "report" / "report.md").exists()


def test_run_rejects_a_percentage_for_min_accuracy(tmp_path: Path) -> None:
    with pytest.raises(ChatbotError, match="between 0 and 1"):
        run(tmp_path / "q.jsonl", tmp_path, 80, False, Settings(), out=lambda s: None)


# ---------------------------------------------------------------- baseline (real small model)


@pytest.mark.slow
def test_baseline_pipeline_answers_with_the_best_chunk_quote() -> None:
    from chatbot.evaluate import BaselinePipeline
    from chatbot.records import Chunk

    def chunk(cid: str, quote: str, section: str, source: str) -> Chunk:
        return Chunk(cid, quote, quote, section, "figure", source, 0, len(quote))

    chunks = [
        chunk("salary", SALARY_QUOTE, "Talent Ecosystem", "ONS ASHE 2021"),
        chunk("spinouts", "Relevant Spinouts: 5", "Innovation Ecosystem", "Beauhurst 2022"),
        chunk("fdi-jobs", "FDI Jobs 2017-2021: 889 jobs", "Investment Ecosystem", "Wavteq 2022"),
    ]
    pipeline = BaselinePipeline(chunks)
    conversation = pipeline.conversation()
    ans = conversation.ask("What is the average salary?")
    assert (ans.text, ans.answered) == (SALARY_QUOTE, True)
    assert ans.citations == [
        Citation(1, "ONS ASHE 2021", "Talent Ecosystem", SALARY_QUOTE, chunk_id="salary")
    ]
    assert ans.retrieved[0] == "salary" and sorted(ans.retrieved) == sorted(
        c.chunk_id for c in chunks
    )
    # scored by the same rules: it never refuses, so an unanswerable question is wrong
    report = evaluate(
        [item(cite=("ONS ASHE",)), item(id="u", answerable=False, must_include=())],
        pipeline.conversation,
        SNAPSHOT,
    )
    assert [r.correct for r in report.results] == [True, False]
