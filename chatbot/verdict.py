"""Verdict: the one place that decides to answer or decline, and why.

In: a ``Frame`` (after carry) and its ``Evidence``. Out: a ``Verdict`` — the planner to run,
the figures or passages it may use, and for a decline the reason in the user's own words
plus the nearest figures the snapshot does have. Reasons come from evidence: an unmet place or
year, a split the snapshot does not give, a kind of number (growth, share) no figure of that
measure has, words nothing in the snapshot matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from chatbot import premises
from chatbot.facts import Facts, Metric
from chatbot.frame import SETTING, Frame
from chatbot.resolve import Candidate, Evidence, Passage
from chatbot.text import stem, words
from chatbot.tuning import MIN_COVERAGE, MIN_FIGURE_SCORE

FIGURE_OPS = ("lookup", "compare", "derive", "verify", "provenance")
TEXT_OPS = ("explain", "list")
ALWAYS = ("chat", "overview", "highlights", "filter", "define", "more")


@dataclass(frozen=True)
class Verdict:
    action: str  # answer | decline
    op: str  # the planner to run
    figures: tuple[Metric, ...] = ()
    passages: tuple[Passage, ...] = ()
    reason: str = ""  # for a decline: what the snapshot does not give
    nearest: tuple[Metric, ...] = ()


def decline(reason: str, nearest: tuple[Metric, ...] = ()) -> Verdict:
    return Verdict("decline", "decline", reason=reason, nearest=nearest)


def topic(f: Frame, leave: tuple[str, ...] = ()) -> str:
    """What the question is about, in its own words (for a decline's reason), without the
    words in ``leave``; nothing from a message that carried an instruction, never repeated."""
    if f.injected or _CODE_RE.search(f.text):  # "'; DROP TABLE metrics; --" is not repeated
        return "that"
    words = [t for t in f.tokens if t in f.unknown] or \
        [t for t, s in zip(f.tokens, f.stems, strict=True) if s in f.content]
    words = [w for w in words if not any(ch.isdigit() for ch in w) and w not in leave]
    return " ".join(dict.fromkeys(words))[:60] or "that"


#: Marks of code or markup in a message (a decline then names nothing from it).
_CODE_RE = re.compile(r"[{}`\\]|\$\(|<[/%a-z]|;\s*--|--\s*$|(?i:\b(?:drop|delete|union|insert|select)\s+"
                      r"(?:table|from|select|into|\*)\b)")
WH_WORDS = ("what", "which", "who", "where", "when", "why", "how")
SCOPE = "anything outside the snapshot; I answer from its own words and figures"


def decide(f: Frame, ev: Evidence, facts: Facts) -> Verdict:
    # "across the 108 investments", "of the £134m": a figure the snapshot states, referred to, not claimed
    if f.measures or f.modifiers:  # (not "source for the £34,131?", which names the figure by it)
        f = replace(f, numbers=tuple(q for q in f.numbers
                                     if not (q.definite and premises.all_stated([q], facts.metrics))))
    if f.op in ("out_of_scope", "injection", "filler"):
        return decline(SCOPE)
    if not f.asked_known and (f.op not in ("chat", "define", "overview", "highlights") or f.value_ask or
                              f.op == "define" and not f.defining):  # "who is the CEO of …"
        places = {w for p in f.places for key in facts.understanding.phrases_of("places", p) for w in key}
        rest = topic(f, leave=(f.asked, *f.tokens[:1], *places))
        what = " ".join(a for a in f.acronyms if a.lower() == f.asked) or f.asked
        return decline(what + (f" ({rest})" if rest != "that" else ""), _nearest(ev))
    asks_figure = bool(f.measures and f.stats & {"count", "money", "share", "percent", "mean"})
    sectioned = _names_section(f, facts)
    if f.op in ("overview", "highlights") and (f.breakdown or not sectioned and (
            asks_figure or f.measures and not f.numbers)) or \
            f.value_ask and f.op in ("explain", "list", "overview", "highlights", "fallback"):
        # "how many jobs, according to the summary?", "the estimated headcount" ask a figure;
        # "the gender split" a breakdown (declined below); "the investment side" an overview
        f = replace(f, op="lookup")
    if (f.tabulate and f.op in ("list", "fallback", "lookup") or f.op == "fallback" and not f.stats
            or f.op == "highlights" and not f.stats) and \
            not (f.numbers or f.modifiers or f.derive or f.value_ask or f.breakdown) and \
            not (f.measures and "count" in f.stats) and sectioned and \
            f.measures <= _named_by(tuple(w for w in f.tokens if stem(w) in facts.section_words), facts) \
            | (_section_measures(f, facts) if len(f.measures) > 1 else frozenset()):  # "innovation
        # front? Accelerators, hubs, grants, that kind of thing": several of the section's measures
        f = replace(f, op="overview")  # "bullet out the talent numbers", "the investment side of things"
    if f.tabulate and f.modifiers and not f.measures - SETTING and f.op in (
            "chat", "list", "fallback", "lookup", "explain", "highlights") and \
            not (f.numbers or f.derive or f.breakdown or f.direction):
        f = replace(f, op="overview")  # "run me through the seed numbers": every figure of that kind
    held_back = {stem("weakness")} & set(f.content)  # "frustrations" are the roundtable's words
    if held_back and f.op in ("explain", "list", "highlights", "overview", "provenance", "fallback") \
            and f.measures <= SETTING and not (f.modifiers or f.numbers or sectioned) and \
            not {t for t in f.content if t in facts.understanding.topic_stems} - held_back:
        return Verdict("answer", "challenges", passages=ev.passages)  # "what's holding them back?"
    elsewhere = [p for p in f.places if p not in ev.corpus_places]
    if elsewhere and (f.op != "verify" or any(p in q for p in elsewhere for q in f.questions)):
        # a place the snapshot never mentions, asked about ("… - how many does London have?"; not
        # "why is China the top country?")
        return decline(f"{topic(f)} (it covers the Midlands only)", _nearest(ev))
    if not f.readable:
        return decline("an answer to that: I read questions in English about the snapshot")
    if "which" in f.tokens and len(f.numbers) == 1 and not f.numbers[0].noun and \
            len(matching := _matching(f, facts)) >= 2:  # not "which ranking put the 4 unis …"
        return Verdict("answer", "matches", figures=matching)  # "which ones come out at 14% of the UK?"
    if f.op == "verify" and f.wh and f.numbers and ev.figures and not f.direction and \
            premises.all_stated(f.numbers, ev):
        f = replace(f, op="explain")  # "why do they think the 18,177 figure is too low?": a true premise
    named = [n for n in f.names if n.lower() not in ("midlands", "uk", "nhs", "the", *WH_WORDS)]
    claimed = f.numbers or f.direction or named or f.years or set(f.places) - {"midlands"}
    if f.op == "verify" and not claimed:
        f = replace(f, op="lookup")  # nothing claimed, nothing to check: "… what is the salary?"
    if f.outside:
        return decline("figures from other editions, other years or forecasts (it is one snapshot, "
                       "as of May 2023)", _nearest(ev))
    if f.defining and f.acronyms and f.op not in ("chat", "define") and not f.numbers:
        f = replace(f, op="define")  # "DDI in the investment section — what's that short for?"
    if f.op == "define" and not f.defining and f.measures - _named_by(f.acronyms, facts):
        f = replace(f, op="lookup")  # "fdi jobz" names a figure, not a term ("what's OLS" does)
    if {"fdi", "ddi"} <= f.modifiers and f.op in ("lookup", "list", "overview", "fallback") \
            and not f.derive:
        f = replace(f, op="compare")  # "run me through the FDI and DDI numbers"
    if f.compares and f.op in ("lookup", "fallback") and not f.derive:
        f = replace(f, op="compare")
    bound = len(f.numbers) == 1 and f.direction and \
        (f.wh or f.op in ("filter", "list") or bool(set(f.tokens) & set(WH_WORDS))) and \
        sectioned and f.numbers[0].unit == "percent"  # "where is it over a tenth of the UK total?"
    if (f.extreme and not f.numbers or bound) and not f.breakdown and \
            f.op not in ("chat", "define", "verify", "provenance"):
        ranked = _ranked(f, ev, facts, sectioned)
        if len(ranked) >= 2:  # "which investment stat is worst for UK share?": the set, ranked
            return Verdict("answer", "rank", figures=ranked)
    dated = next((c.metric for c in ev.figures[:3] if c.metric.unit == "date"), None)
    if dated is not None and f.years and not f.measures - {"data_date"} and f.op not in ("chat", "define"):
        return Verdict("answer", "verify", figures=(dated,))  # "is the data from May 2023?"
    if f.op == "provenance" and not (f.measures or f.modifiers or f.numbers or f.acronyms or f.names):
        return Verdict("answer", "sources")  # "what sources does the report draw on?": all of them
    if f.op in TEXT_OPS and f.breakdown and not premises.names_beyond(f, ev):  # "name the 17 companies"
        return decline(f"{topic(f)} (it names no individual companies and gives no such split)")
    summing = f.op in ("overview", "highlights")  # "since the cluster shrank, …": a false premise first
    if f.op in (*TEXT_OPS, "fallback", "overview", "highlights") and ev.figures and \
            (f.numbers or f.direction):
        top = premises.claimed(f, ev)
        stated = not f.wh and any(abs(q.value - top.value) < 1e-9 * max(1.0, top.value)
                                  for q in f.numbers)
        measured = f.op != "fallback" or any(q.unit != "count" for q in f.numbers)  # not "top 4 …"
        measured = measured and not (f.wh and premises.all_stated(f.numbers, facts.metrics))  # "why
        # over 30k?"
        if stated and not summing or measured and (premises.false_number(f, top)
                                                   or premises.false_direction(f, top, facts)):
            return Verdict("answer", "verify", figures=(top,), passages=ev.passages)
    if f.op in ALWAYS:
        return Verdict("answer", f.op, passages=ev.passages)
    said = [p for p in ev.passages if p.coverage >= MIN_COVERAGE]
    elsewhere_named = named or set(f.places) - {"midlands"}
    if f.op == "verify" and said and not (f.numbers or f.measures) and elsewhere_named:
        return Verdict("answer", "verify", passages=tuple(said))  # "LS zones = BHIC and BioCity?"
    if not asks_figure and f.op not in ("chat", "define") and premises.false_place(f, ev):
        return Verdict("answer", "verify", passages=ev.passages)
    textual = [x for x in f.measures if not facts.by_measure.get(x)]  # "countries": no figure has it
    moneyless = f.measures and not any(m.is_money for x in f.measures for m in facts.by_measure.get(x, ()))
    if (textual or moneyless) and f.currency and "count" not in f.stats and \
            f.op in ("lookup", "fallback", "explain") and \
            not any(q.unit in ("GBP", "USD") for q in f.numbers):
        return decline(f"an amount of money for {topic(f)}", _nearest(ev))  # "aggregate turnover in £?"
    figures = _figures(f, ev, facts)
    if f.op in TEXT_OPS or (f.op == "fallback" and not f.measures and not f.stats):
        good = [p for p in ev.passages if p.coverage >= MIN_COVERAGE] or \
            [p for p in ev.passages[:1] if f.op == "list" and p.chunk.kind == "list"
             and p.coverage >= MIN_COVERAGE / 2]  # a list asked for in many words
        counted = bool(f.measures) and all(facts.by_measure.get(x) for x in f.measures)
        if good and f.op == "list" and counted and "count" in f.stats and not isinstance(figures, Verdict) \
                and good[0].chunk.kind in ("figure", "table_row"):
            return Verdict("answer", "lookup", figures=figures)  # "no. of spinouts?": a panel's figure
        if good:
            return Verdict("answer", "explain" if f.op == "fallback" else f.op, passages=tuple(good))
        if isinstance(figures, Verdict) or f.op == "list" and not counted:
            return decline(topic(f), _nearest(ev))  # a list of names the snapshot does not give
        return Verdict("answer", "lookup", figures=figures)
    good = [p for p in ev.passages if p.coverage >= MIN_COVERAGE]
    if textual and good and f.op in ("lookup", "fallback", "provenance") and \
            not (f.value_ask or f.breakdown or f.numbers):  # a number stated is a claim to check
        return Verdict("answer", "list" if good[0].chunk.kind == "list" else "explain",
                       passages=tuple(good))  # "top source countries for that?": a passage lists them
    if isinstance(figures, Verdict):
        return figures
    op = "lookup" if f.op == "fallback" else f.op
    if op == "derive" and not f.derive and "mean" not in f.stats:
        op = "lookup"  # nothing to calculate: "UK share?" is a figure the snapshot states
    claims = [q for q in f.numbers if not figures[0].names_number(q)]
    claimed = premises.claimed(f, ev)
    # a number written in digits without a question word is a claim ("two shares?" counts)
    stated = not f.wh and any(any(ch.isdigit() for ch in q.written) for q in claims)
    if f.conflict and claims and premises.all_stated(claims, ev):
        op = "lookup"  # "one page says 5,500, elsewhere 18,000": each is stated; say which is which
    elif op not in ("verify", "derive", "provenance") and (op != "compare" or claims and not f.wh) \
            and (premises.false_number(f, claimed) or len(claims) >= 2 or stated
            or premises.false_direction(f, figures[0], facts) or figures[0].unit == "date" and f.years):
        op = "verify"  # "which of the 20 universities …", "11% or 16.9%?": the claim first
    mean = next((c.metric for c in ev.figures[:5] if "mean" in c.metric.stats
                 and f.modifiers <= c.metric.modifiers), None) if "mean" in f.stats else None
    if mean is not None and op in ("lookup", "derive") and not f.derive - {"per_unit"}:
        return Verdict("answer", "lookup", figures=(mean,), passages=ev.passages)  # stated: no sum
    if "mean" in f.stats and mean is None and op == "lookup" and not _direct(f, figures[0]):
        op = "derive"  # "the mean size of the venture deals": no mean stated, the total ÷ the count
    if op == "lookup" and f.derive and not _direct(f, figures[0]):
        op = "derive"
    if op == "derive" and f.derive <= {"share_of"} and "share" in figures[0].stats and \
            not {"fdi", "ddi"} <= f.modifiers:  # "FDI as % of FDI + DDI" is not its UK share
        op = "lookup"  # "as a share of the UK": the snapshot states the share itself
    if op == "lookup" and (f.compares or len({m for m in f.modifiers if m in ("fdi", "ddi")}) == 2):
        op = "compare"
    return Verdict("answer", op, figures=figures, passages=ev.passages)


def _matching(f: Frame, facts: Facts) -> tuple[Metric, ...]:
    """The figures stating exactly the number a "which …" question names, of the measures it
    names if any; each thing once (its panel, not the summary restating it)."""
    q = f.numbers[0]
    named = f.measures - SETTING  # "business figures": any
    same = [m for m in facts.metrics if m.value == q.value and (q.unit == "percent") == m.is_percent
            and (q.unit not in ("GBP", "USD") or m.is_money) and (not named or named & m.measures)]
    out: list[Metric] = []
    for m in sorted(same, key=lambda m: m.kind not in ("figure", "table_row")):
        if not set(facts.same_concept(m)) & set(out):
            out.append(m)
    return tuple(sorted(out, key=lambda m: facts.position[m.metric_id]))


def _figures(f: Frame, ev: Evidence, facts: Facts) -> tuple[Metric, ...] | Verdict:
    """The figures a figure question may use, or the decline that says why there are none."""
    if f.breakdown:
        return decline(f"{topic(f)} broken down that way (it gives cluster-wide figures only)",
                       _nearest(ev))
    cands = list(ev.figures)
    if not cands:
        return decline(topic(f), _nearest(ev))
    top = cands[0]
    # an amount of money is always a figure: a passage that names the place does not give it
    if top.unmet and not f.value_ask and "money" not in f.stats and \
            all(u in facts_prose(ev) for u in top.unmet):
        return Verdict("answer", "explain", passages=tuple(p for p in ev.passages
                                                           if p.coverage >= MIN_COVERAGE))
    backed = "base_growth" in f.derive and any("growth" in c.metric.stats for c in cands[:3])
    if top.unmet and f.op != "verify" and top.metric.unit != "date" and not backed:  # "as of 2022?"
        # is a claim; "how many businesses in 2013?" is backed out from the growth since then
        upper = {a.lower(): a for a in f.acronyms}
        where = ", ".join("that year" if u.isdigit() else upper.get(u, u.title()) for u in top.unmet)
        return decline(f"{topic(f, leave=top.unmet)} for {where}",
                       (top.metric,) if f.measures & top.metric.measures else ())
    named = any(top.metric.names_number(q) for q in f.numbers)
    if f.currency and not named and not any(c.metric.is_money for c in cands[:3]) \
            and f.op in ("lookup", "fallback") and not f.derive and "count" not in f.stats and not f.numbers:
        return decline(f"an amount of money for {topic(f)}", tuple(c.metric for c in cands[:2]))
    if not f.measures and (f.unknown or top.score < MIN_FIGURE_SCORE):
        return decline(topic(f), _nearest(ev))
    only_count = "count" in f.stats and not f.stats & {"share", "percent", "growth", "money"}
    if only_count and top.metric.is_percent and f.op in ("lookup", "fallback") and not f.derive:
        return decline(f"a count of {topic(f)}", tuple(c.metric for c in cands[:2]))
    for stat in ("growth", "share"):  # a kind of number asked in so many words
        if stat in f.stats and stat not in top.metric.stats and f.op not in ("derive", "compare") \
                and not f.derive:
            if stat == "share" and facts.whole(top.metric) is not None:
                return Verdict("answer", "derive", figures=(top.metric,))  # computable: a part of a whole
            return decline(f"{stat} of {topic(f)}", tuple(c.metric for c in cands[:2]))
    return tuple(_cover(f, cands))


def _ranked(f: Frame, ev: Evidence, facts: Facts, sectioned: bool) -> tuple[Metric, ...]:
    """The figures a "which is highest / lowest" question ranks: one kind of number (UK shares,
    amounts, growth or counts) of the section or the measures it names, each stated once."""
    asked = set(f.stems)
    if sectioned:
        pool = [m for m in facts.metrics if {stem(w) for w in words(m.section)} & facts.section_words & asked]
    else:
        pool = [c.metric for c in ev.figures[:12] if c.metric.measures & f.measures]
    pool = [m for m in pool if "national" not in m.modifiers and m.modifiers >= f.modifiers]
    if f.stats & {"share", "percent"}:
        pool = [m for m in pool if m.is_percent and "share" in m.stats
                and ("uk" not in asked or m.of_uk)]  # "UK share": not the cluster's
    elif "growth" in f.stats:
        pool = [m for m in pool if "growth" in m.stats]
    elif "money" in f.stats or f.currency:
        pool = [m for m in pool if m.is_money]
    else:
        pool = [m for m in pool if m.is_count and m.kind in ("figure", "table_row")]
    kinds = [(m.unit, frozenset() if m.is_percent else m.measures) for m in pool]  # shares of
    kind = max(kinds, key=kinds.count, default=None)  # anything; counts and amounts of one thing
    seen: set = set()
    out = []
    for m, k in zip(pool, kinds, strict=True):
        key = (m.value, m.unit, m.measures, m.modifiers)
        if k == kind and key not in seen:
            seen.add(key)
            out.append(m)
    return tuple(out)


def _names_section(f: Frame, facts: Facts) -> bool:
    """Does the question name a section of the snapshot ("the investment ecosystem"), or a
    topic word for one ("skills": talent)?"""
    return bool(facts.names_sections(f.stems, f.content))


def _section_measures(f: Frame, facts: Facts) -> frozenset[str]:
    """The measures of the sections the question names (by name, or by a topic word for it:
    "skills" for talent)."""
    named = facts.names_sections(f.stems, f.content)
    return frozenset(x for m in facts.metrics if {stem(w) for w in words(m.section)} & named
                     for x in m.measures)


def _named_by(terms: tuple[str, ...], facts: Facts) -> frozenset[str]:
    """The measures the terms themselves name ("OLS" → health and life sciences)."""
    u = facts.understanding
    return frozenset(t.concept for a in terms for t in u.tag([stem(w) for w in words(a)])
                     if t.category == "measures")


def facts_prose(ev: Evidence) -> frozenset[str]:
    return ev.prose_only


def _cover(f: Frame, cands: list[Candidate]) -> list[Metric]:
    """The best figure, any others that fit as well, and the best figure for each measure or
    kind of number the question asks for that those leave out ("spinouts and accelerators",
    "money raised and number of rounds")."""
    best = cands[0].score
    picked = [c.metric for c in cands if c.score >= best - 1e-6][:4]
    for x in sorted(f.measures - set().union(*(m.measures for m in picked)) if f.joined else ()):
        extra = next((c.metric for c in cands if x in c.metric.measures and not c.unmet), None)
        if extra is not None and extra not in picked:
            picked.append(extra)
    asked = f.stats & {"money", "count", "share"}
    if len(asked) >= 2:
        for want in sorted(asked):
            if not any(want in m.stats for m in picked):
                fits = [c.metric for c in cands if c.metric.modifiers >= f.modifiers]
                extra = next((m for m in fits if want in m.stats), None)
                if extra is None and want == "count":  # "the number" of an amount is the amount
                    extra = next((m for m in fits if m.is_money and m.measures & picked[0].measures), None)
                if extra is not None:
                    picked.append(extra)
    return picked


def _direct(f: Frame, m: Metric) -> bool:
    """Does the figure itself answer, with no arithmetic (its kind of number is the one asked)?"""
    if "mean" in f.stats and "mean" not in m.stats:
        return False
    if {"share_of", "base_share", "base_growth", "complement", "per_unit", "ratio", "sum",
            "difference", "points", "relative"} & f.derive:
        return False
    return True


def _nearest(ev: Evidence) -> tuple[Metric, ...]:
    return tuple(c.metric for c in ev.figures[:2])
