"""Tests for scoring: matching, the lenient and strict readings, aggregation. Pure, no model."""

from __future__ import annotations

import pytest

from chatbot.evalsets import EvalItem
from chatbot.records import Answer, Citation
from chatbot.reporting import percentile, summarise
from chatbot.scoring import (
    ItemResult,
    approx_mentions,
    citation_support,
    declined,
    figures_stated,
    gold_rank,
    mentions,
    relevant_citations,
    score,
    unsupported_numbers,
)

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
    assert result.reasons[:1] == ([] if reason is None else [reason])


@pytest.mark.parametrize(
    ("text", "correct"),
    [
        ("The average salary is £34,131 [1].", True),
        ("As you insist, £999,999; the snapshot says £34,131 [1].", False),
        ("The snapshot says £34,131, not 999999 [1].", False),
    ],
)
def test_must_not_include(text: str, correct: bool) -> None:
    it = item(must_not=("999,999",))
    result = judge(it, answer(text, citations=[cite(SALARY_QUOTE)]))
    assert result.correct is correct
    assert result.correct or result.reasons == ["states '999,999'"]


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
        # a cite string is read as words: no footnote marker, no heading's colon
        ((("£34,131",),), ("³ONS ASHE 2021",), [cite("x", source="ONS ASHE 2021")], True),
        ((("£34,131",),), ("Talent Ecosystem:",), [cite("x", section="Talent Ecosystem")], True),
        ((("£34,131",),), ("Average salary **£34,131**",), [cite("Average salary £34,131")], True),
        ((("£34,131",),), ("remain in 3 years of graduating in 2019.",),
         [cite("7420/8855 remain in 3 years of graduating in 2019")], True),
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
        "strict": True,
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
        result(answerable=True, refused=True, correct=False, strict=False),  # false refusal
        result(answerable=False, refused=False, correct=False, strict=False, category="unanswerable"),
        result(answerable=False, refused=False, correct=False, strict=False, category="unanswerable"),
        result(answerable=True, refused=False),
    ]
    report = summarise(results)
    assert report.refusal_precision == pytest.approx(2 / 3)
    assert report.refusal_recall == pytest.approx(2 / 4)
    assert report.total.lenient_rate == pytest.approx(3 / 6)
    assert report.categories["figure"].n == 2
    assert report.categories["unanswerable"].lenient_rate == pytest.approx(2 / 4)


def test_rates_are_none_when_nothing_to_measure() -> None:
    report = summarise([result(), result(correct=False, strict=False)])
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




# ---------------------------------------------------------------- strict reading


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("About £1.73m a deal.", "£1.73m", True),
        ("About £1.7m a deal.", "£1.73m", True),  # 1.7% off: within tolerance
        ("About £1,725,806 a deal.", "£1.73m", True),
        ("About £1.6m a deal.", "£1.73m", False),
        ("DDI capex is 2.04 times FDI capex.", "2.04", True),
        ("27% lower", "27.2%", True),
        ("no number", "5", False),
    ],
)
def test_approximate_values(text: str, target: str, expected: bool) -> None:
    assert approx_mentions(text, target) is expected
    assert mentions(text, "~" + target) is expected


def test_figures_stated_skip_markers_numbering_and_calculations() -> None:
    ans = answer("1. The gap is 2,432 jobs [1][2] (2017–2021).\nCalculation: 3,321 − 889 = 2,432",
                 calculations=["3,321 − 889 = 2,432"])
    assert figures_stated(ans) == {"2432", "2017", "2021"}


def test_a_figure_answer_with_too_many_numbers_fails_strictly_but_not_leniently() -> None:
    text = "Salary £34,131 [1]; also 1, 2, 3, 4, 5, 6, 7, 8 and 9 other things."
    result = judge(item(), answer(text, citations=[cite(SALARY_QUOTE)]))
    assert result.correct and not result.strict
    assert any("states 10 figures (at most 8" in r for r in result.reasons)


def test_lists_may_state_more_figures_but_not_a_dump() -> None:
    many = " ".join(str(n) for n in range(100, 112))
    ok = judge(item(category="list"), answer(f"£34,131 {many} [1]", citations=[cite(SALARY_QUOTE)]))
    assert ok.strict
    dump = judge(item(category="list"),
                 answer("£34,131 [1] " + "word " * 700, citations=[cite(SALARY_QUOTE)]))
    assert not dump.strict and any("a dump" in r for r in dump.reasons)


def test_most_citations_must_hold_what_was_asked() -> None:
    noise = [cite(SALARY_QUOTE)] + [cite(f"Other passage {n}", number=n) for n in range(2, 6)]
    result = judge(item(), answer("£34,131 [1] and more [2][3][4][5]", citations=noise))
    assert result.correct and not result.strict
    assert relevant_citations(item(), answer("x", citations=noise)) == pytest.approx(0.2)
    # a calculation's inputs are what a derived answer cites
    derived = item(category="derived", must_include=(("~£1.73m",),))
    ans = answer("About £1.73m a deal [1].", citations=[cite("£107m across 62 seed investments")],
                 calculations=["£107m ÷ 62 = £1.73m"])
    assert relevant_citations(derived, ans) == 1.0 and judge(derived, ans).strict
    assert relevant_citations(item(category="overview"), answer("x", citations=noise)) is None


@pytest.mark.parametrize(
    ("verdict", "text", "ok"),
    [
        ("no", "No — the average salary is £34,131 [1].", True),
        ("no", "**No** — it is £34,131 [1].", True),
        ("no", "The average salary is £34,131 [1].", False),
        ("no", "Not quite — it is £34,131 [1].", False),
        ("not quite", "Not quite — it is £34,131 [1].", True),
        ("yes", "Yes — £34,131 [1].", True),
        ("yes", "Yes, £34,131 [1].", True),
        ("yes", "Yesterday £34,131 [1].", False),
    ],
)
def test_a_claim_check_opens_with_its_verdict(verdict: str, text: str, ok: bool) -> None:
    it = item(category="verify", verdict=verdict)
    assert judge(it, answer(text, citations=[cite(SALARY_QUOTE)])).strict is ok


def test_false_premise_items_default_to_a_no_verdict() -> None:
    it = item(category="false_premise")
    assert not judge(it, answer("£34,131 [1].", citations=[cite(SALARY_QUOTE)])).strict
    assert judge(it, answer("No — £34,131 [1].", citations=[cite(SALARY_QUOTE)])).strict


def test_a_refusal_dressed_as_an_answer_fails_strictly() -> None:
    text = "The snapshot doesn't say. Nearest figure: average salary £34,131 [1]."
    ans = answer(text, citations=[cite(SALARY_QUOTE)])
    assert declined(ans)
    result = judge(item(), ans)
    assert not result.strict and "declines in its text while marked answered" in result.reasons


def test_must_not_fails_an_unanswerable_item_too() -> None:
    it = item(answerable=False, must_include=(), must_not=("£99,999",))
    said = "The snapshot doesn't say what the salary will be (not £99,999)."
    assert judge(it, answer(said, answered=False)).strict is False
    assert judge(it, answer("The snapshot doesn't say what the salary will be.", answered=False)).strict


def test_a_chat_reply_states_no_figures() -> None:
    it = item(category="chat", must_include=())
    assert judge(it, answer("Hello! Ask me about the snapshot.")).strict
    assert not judge(it, answer("Hello! The salary is £34,131, jobs 5,552, firms 222.")).strict


def test_a_greeting_with_a_figure_question_is_capped_as_a_figure_answer() -> None:
    it = item(category="chat", must_include=(("40%",),), cite=("40%",))
    said = "FDI made up **40%** of UK investments in high growth companies — 43 of 108 (2022) [1]."
    cited = [cite("FDI into High Growth Companies: 40% 43 of 108 UK investments (2022)")]
    assert judge(it, answer(said, citations=cited)).strict


def test_an_unanswerable_item_needs_a_specific_decline() -> None:
    it = item(answerable=False, must_include=(), turns=("What is the population of Birmingham?",))
    stock = judge(it, answer("The snapshot doesn't say.", answered=False))
    assert stock.correct and not stock.strict  # lenient accepts any decline
    named = answer("The snapshot has no population figures for Birmingham.", answered=False)
    assert judge(it, named).strict
    offered = Answer("The snapshot doesn't say.", False, suggestions=["What is the average salary?"])
    assert judge(it, offered).strict
