"""Edits: meaning-preserving rewrites of a question, for metamorphic tests of the engine.

In: a question. Out: ``(kind, edited question)`` pairs; a right answer must stay right under
every one. Ten kinds apply to any question (greetings, thanks, "Quick question:", "Can you tell
me", "please", case, punctuation, spacing); the rest apply where the question has what they
rewrite (contractions, "%", money, thousands, British/US spelling). Adding a kind is welcome;
removing one hides regressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Edit = Callable[[str], str | None]  # None: the edit does not apply to this question

_CONTRACTIONS = (
    ("what is", "what's"), ("it is", "it's"), ("that is", "that's"), ("there is", "there's"),
    ("how is", "how's"), ("who is", "who's"), ("where is", "where's"), ("do not", "don't"),
    ("does not", "doesn't"), ("did not", "didn't"), ("is not", "isn't"), ("are not", "aren't"),
    ("was not", "wasn't"), ("cannot", "can't"), ("they are", "they're"), ("we are", "we're"),
    ("i am", "i'm"), ("how many are", "how many're"),
)
_SPELLING = (  # British, American
    ("organisation", "organization"), ("programme", "program"), ("centre", "center"),
    ("analyse", "analyze"), ("labour", "labor"), ("favour", "favor"), ("utilise", "utilize"),
    ("summarise", "summarize"), ("recognise", "recognize"), ("prioritise", "prioritize"),
    ("modelling", "modeling"), ("behaviour", "behavior"), ("defence", "defense"),
    ("licence", "license"), ("enrol", "enroll"), ("travelling", "traveling"),
    ("catalogue", "catalog"), ("characterise", "characterize"), ("emphasise", "emphasize"),
)
_WH = re.compile(r"^(what|which|who|whom|whose|where|when|why|how|is|are|was|were|do|does|did|"
                 r"has|have|can|could|should|would|will)\b", re.I)
_MONEY = re.compile(r"([£$])(\d+(?:\.\d+)?)\s?(m|bn)\b")
_MONEY_WORDS = re.compile(r"(?:([£$])(\d+(?:\.\d+)?) (million|billion)\b|"
                          r"\b(\d+(?:\.\d+)?) (million|billion) (pounds|dollars)\b)", re.I)
_THOUSANDS = re.compile(r"\b(\d{1,3}),(\d{3})\b")
_PLAIN_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})(\d{3})(?![\d.,])")
_YEARLIKE = re.compile(r"^(19|20)\d{2}$")


def _first_lower(q: str) -> str:
    return q[:1].lower() + q[1:] if q[:2] != q[:2].upper() else q


def _case_like(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _swap(q: str, pairs: tuple[tuple[str, str], ...], forward: bool,
          inflect: bool = False) -> str | None:
    """Swap each pair's words (with plural and verb endings when ``inflect``)."""
    out = q
    ending = "(s|es|d|ed|ing)?" if inflect else "()"
    for a, b in pairs:
        old, new = (a, b) if forward else (b, a)
        out = re.sub(rf"\b{re.escape(old)}{ending}\b",
                     lambda m, n=new: _case_like(m.group(0), n) + (m.group(1) or ""), out, flags=re.I)
    return out if out != q else None


def _can_you_tell_me(q: str) -> str:
    body = q.strip()
    return f"Can you tell me {_first_lower(body)}" if _WH.match(body) else f"Can you tell me: {body}"


def _extra_spaces(q: str) -> str:
    return "  " + "   ".join(q.split()) + "  "


def _no_question_mark(q: str) -> str | None:
    stripped = q.rstrip().rstrip("?").rstrip()
    return stripped if stripped != q.rstrip() else None


def _percent(word: str) -> Edit:
    def edit(q: str) -> str | None:
        out = re.sub(r"(\d)\s?%", rf"\1 {word}", q)
        return out if out != q else None
    return edit


def _percent_symbol(q: str) -> str | None:
    out = re.sub(r"(\d)\s?(per cent|percent)\b", r"\1%", q, flags=re.I)
    return out if out != q else None


def _money_long(q: str) -> str | None:
    words = {"m": "million", "bn": "billion"}
    out = _MONEY.sub(lambda m: f"{m[1]}{m[2]} {words[m[3]]}", q)
    return out if out != q else None


def _money_named(q: str) -> str | None:
    words = {"m": "million", "bn": "billion"}
    names = {"£": "pounds", "$": "dollars"}
    out = _MONEY.sub(lambda m: f"{m[2]} {words[m[3]]} {names[m[1]]}", q)
    return out if out != q else None


def _money_short(q: str) -> str | None:
    short = {"million": "m", "billion": "bn"}
    signs = {"pounds": "£", "dollars": "$"}

    def repl(m: re.Match) -> str:
        if m[1]:
            return f"{m[1]}{m[2]}{short[m[3].lower()]}"
        return f"{signs[m[6].lower()]}{m[4]}{short[m[5].lower()]}"

    out = _MONEY_WORDS.sub(repl, q)
    return out if out != q else None


def _thousands_plain(q: str) -> str | None:
    out = _THOUSANDS.sub(r"\1\2", q)
    return out if out != q else None


def _thousands_comma(q: str) -> str | None:
    def repl(m: re.Match) -> str:
        whole = m.group(0)
        return whole if _YEARLIKE.match(whole) else f"{m[1]},{m[2]}"

    out = _PLAIN_THOUSANDS.sub(repl, q)
    return out if out != q else None


#: Every edit kind, in report order. The first ten apply to any question.
EDITS: dict[str, Edit] = {
    "hi_before": lambda q: f"Hi! {q}",
    "thanks_after": lambda q: f"{q} Thanks",
    "hi_and_thanks": lambda q: f"Hi! {q} Thanks!",
    "quick_question": lambda q: f"Quick question: {q}",
    "can_you_tell_me": _can_you_tell_me,
    "please": lambda q: f"Please, {_first_lower(q.strip())}",
    "lower_case": lambda q: q.lower(),
    "all_caps": lambda q: q.upper(),
    "no_question_mark": lambda q: _no_question_mark(q) or f"{q.rstrip()}.",
    "extra_spaces": _extra_spaces,
    "contract": lambda q: _swap(q, _CONTRACTIONS, True),
    "expand": lambda q: _swap(q, _CONTRACTIONS, False),
    "per_cent": _percent("per cent"),
    "percent": _percent("percent"),
    "percent_sign": _percent_symbol,
    "money_million": _money_long,
    "money_pounds": _money_named,
    "money_short": _money_short,
    "thousands_plain": _thousands_plain,
    "thousands_comma": _thousands_comma,
    "us_spelling": lambda q: _swap(q, _SPELLING, True, inflect=True),
    "uk_spelling": lambda q: _swap(q, _SPELLING, False, inflect=True),
}
ALWAYS = tuple(list(EDITS)[:10])


def edits_of(question: str) -> list[tuple[str, str]]:
    """Every ``(kind, edited question)`` that applies to ``question`` and changes it."""
    out = []
    for kind, edit in EDITS.items():
        edited = edit(question)
        if edited is not None and edited != question:
            out.append((kind, edited))
    return out
