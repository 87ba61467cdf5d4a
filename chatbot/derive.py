"""Derive: arithmetic the figures allow, done in code and shown with its working.

In: a ``Ctx`` whose frame asks for a calculation (a ratio, difference, sum, per-unit value,
share, complement, or a base backed out of a growth rate or a UK share). Out: a sentence with
the result and a labelled ``Calculation:`` line whose inputs are cited figures. Operands come
from the question's own figures, the last answer's, or the relations between figures (a
count's divisor, a figure's UK share, its FDI/DDI counterpart, the parts of a whole).
"""

from __future__ import annotations

import re
from dataclasses import replace

from chatbot.claims import verify as _verify_stated
from chatbot.compose import number
from chatbot.facts import Metric
from chatbot.plan import Ctx, compare, first_named, lookup, scratch
from chatbot.plan import candidates as _candidates
from chatbot.text import quantities, stem, words
from chatbot.tuning import CLOSE, CLOSE_SECOND, RANKED

#: The order kinds are tried in when a question carries several cues.
KINDS = ("base_share", "base_growth", "complement", "points", "relative", "share_of", "per_unit", "ratio",
         "difference", "sum")


def derive(ctx: Ctx) -> str:
    f = ctx.frame
    kinds = [k for k in KINDS if k in f.derive]
    if "sum" in kinds and f.stats & {"share", "percent"}:  # "what share of the two combined …"
        kinds = ["share_of"] + kinds
    if ("growth" in f.stats or f.years) and "base_growth" in kinds:  # "what does 62% growth imply
        # for 2013?", "back out the 2013 base": a base year is one a growth rate runs from
        kinds = ["base_growth"] + [k for k in kinds if k != "base_growth"]
    if {"gap", "money"} <= f.stats:  # "the pay gap in pounds": the snapshot states it in per cent
        kinds = ["difference"] + [k for k in kinds if k != "difference"]
    kinds = kinds or (["per_unit"] if "mean" in f.stats else
                      ["share_of"] if f.stats & {"share", "percent"} else [])
    if not kinds and len(ctx.figures) >= 2:
        kinds = ["difference"]
    for kind in kinds:
        done = _DO[kind](ctx)
        if done:
            return done
    return compare(ctx) if {"fdi", "ddi"} <= f.modifiers else lookup(ctx)  # nothing to calculate


def rank(ctx: Ctx) -> str:
    """"Which investment stat is worst for UK share?": the figures of that set, top or bottom
    first, the answer named in the first line."""
    f, out = ctx.frame, ctx.out
    high = f.extreme == "high" or not f.extreme and f.direction == "up"
    figs = sorted(ctx.figures, key=lambda m: (-m.value if high else m.value, m.label))
    if f.numbers and not f.extreme:  # "where is it over a tenth of the UK total?": those beyond it
        bound = f.numbers[0]  # the user's number: not stated again (only the snapshot's are)
        beyond = [m for m in figs if (m.value > bound.value) == high and m.value != bound.value]
        way = "above" if high else "below"
        if not beyond:
            out.add(f"No — none of the comparable figures is {way} the share you name; the "
                    f"{'highest' if high else 'lowest'} is " + out.figure(figs[0]))
        else:
            out.add(f"The comparable figures {way} the share you name, in order:\n"
                    + "\n".join(f"- {out.figure(m)}" for m in beyond[:RANKED]))
        return "figures"
    out.add(f"The {'highest' if high else 'lowest'} of the comparable figures: " + out.figure(figs[0]))
    out.add("In order:\n" + "\n".join(f"{i}. {out.figure(m)}" for i, m in enumerate(figs[:RANKED], 1)))
    return "figures"


def _lower(label: str) -> str:
    """A label inside a sentence: "Average salary" → "average salary", "DDI jobs" kept."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _write(ctx: Ctx, inputs: list[Metric], working: str, result: str, what: str) -> str:
    out = ctx.out
    refs = "".join(f"[{n}]" for n in dict.fromkeys(out.cite_metric(m) for m in inputs))
    out.add(f"{what}: **{result}** {refs} (calculated from the snapshot's figures).")
    out.add(out.calculation(f"{working} = {result}"))
    return "derived"


def _operands(ctx: Ctx) -> tuple[Metric, Metric] | None:
    """Two figures of one unit: the two the question names (in its order), or a figure and
    the one it is compared with (its national comparator, its FDI/DDI counterpart)."""
    pool = _candidates(ctx)
    if not ctx.frame.stats & {"share", "percent"}:  # amounts and counts, unless shares are asked
        pool = [m for m in pool if not m.is_percent] or pool
    if not pool:
        return None
    head = pool[0]
    named = [m for m in pool[1:6] if m.commensurable(head) and m.metric_id != head.metric_id
             and (m.measures, m.modifiers) != (head.measures, head.modifiers)
             and m.document == head.document]
    scores = {c.metric.metric_id: c.score for c in ctx.evidence.figures}
    close = [m for m in named if scores.get(head.metric_id, 0) - scores.get(m.metric_id, -99) <= CLOSE_SECOND]
    # "the OLS and Data City estimates": the figure named by words the first one's label lacks
    own = {stem(w) for a in ctx.frame.acronyms + ctx.frame.names for w in words(a)} - head.label_stems
    alike = [m for m in pool[1:6] if m.commensurable(head) and m.metric_id != head.metric_id
             and m.document == head.document
             and scores.get(head.metric_id, 0) - scores.get(m.metric_id, -99) <= CLOSE_SECOND]
    by_name = max(alike, key=lambda m: len(own & m.label_stems), default=None)
    if by_name is not None and own & by_name.label_stems and by_name not in close[:1]:
        close = [by_name] + close
    other = close[0] if close and not ctx.context.figures else ctx.facts.paired(head)
    if other is None and named and len(ctx.frame.measures | ctx.frame.modifiers) > 1:
        other = named[0]
    if other is None:
        return None
    first = first_named(ctx, head, other)
    return (head, other) if first is head else (other, head)


def _most_named(ctx: Ctx, a: Metric, b: Metric) -> Metric:
    """Of two FDI/DDI twins, the one the question names more often (the first on a tie)."""
    tags = [t.concept for t in ctx.facts.understanding.tag(list(ctx.frame.stems))
            if t.category == "modifiers"]
    na, nb = (sum(t in m.modifiers for t in tags) for m in (a, b))
    return a if na > nb else b if nb > na else first_named(ctx, a, b)


def _ratio(ctx: Ctx) -> str:
    pair = _operands(ctx)
    if not pair or not pair[1].value:
        return ""
    a, b = pair
    r = a.value / b.value
    return _write(ctx, [a, b], f"{a.display} ÷ {b.display}", f"{r:.2f}",
                  f"Ratio of {_lower(a.label)} to {_lower(b.label)}")


def _difference(ctx: Ctx) -> str:
    pair = _operands(ctx)
    if not pair:
        return ""
    a, b = sorted(pair, key=lambda m: -m.value)
    d = a.value - b.value
    result = f"{d:.2f}".rstrip("0").rstrip(".") + " percentage points" if a.is_percent \
        else number(d, a.unit)
    return _write(ctx, [a, b], f"{a.display} − {b.display}", result,
                  f"Difference between {_lower(a.label)} (the larger) and {_lower(b.label)}")


def _relative(ctx: Ctx) -> str:
    """"National is what % above the Midlands?": the first figure named against the second, as a
    percentage of the second; the snapshot's own statement when it says exactly that."""
    amounts = replace(ctx, frame=replace(ctx.frame, stats=ctx.frame.stats - {"percent", "share", "gap"}))
    pair = _operands(amounts)  # the amounts compared, not a stated percentage
    if not pair or pair[0].is_percent or not pair[1].value:
        return ""
    a, b = pair
    pct = 100 * (a.value - b.value) / b.value
    stated = ctx.facts.gap(a) or ctx.facts.gap(b)
    if stated is not None and abs(abs(pct) - stated.value) < 0.05:  # "27.2% lower" says it
        ctx.out.add(ctx.out.figure(stated))
        return "figure"
    way = "above" if pct >= 0 else "below"
    return _write(ctx, [a, b], f"({a.display} − {b.display}) ÷ {b.display} × 100", f"{abs(pct):.1f}%",
                  f"{a.label} {way} {_lower(b.label)}, as a percentage of it")


def _points(ctx: Ctx) -> str:
    return _difference(ctx)


def _sum(ctx: Ctx) -> str:
    pair = _operands(ctx)
    if not pair:
        return ""
    a, b = pair
    if a.is_percent:  # shares of different wholes (UK FDI jobs, UK DDI jobs) do not add up
        return ""
    return _write(ctx, [a, b], f"{a.display} + {b.display}", number(a.value + b.value, a.unit),
                  f"{a.label} and {b.label} combined")


def _per_unit(ctx: Ctx) -> str:
    facts = ctx.facts
    u = facts.understanding
    tags = u.tag(list(ctx.frame.stems))
    cut = next((t.end for t in tags if t.category == "derive" and t.concept == "per_unit"), None)
    per = {t.concept for t in tags if t.category == "measures" and cut is not None and t.start >= cut}
    mods = ctx.frame.modifiers
    head = next((m for m in _candidates(ctx) if not m.is_percent and "mean" not in m.stats
                 and mods <= m.modifiers and (m.is_money or per and not m.measures & per)), None)
    if head is None:
        return ""
    divisors = [d for d in facts.divisors(head) if d is not head]
    if per:
        divisors = [d for d in divisors if d.measures & per] or \
            [m for m in _candidates(ctx) if m.measures & per and m.is_count
             and m.modifiers == head.modifiers and m.document == head.document]
    if not divisors or not divisors[0].value:
        return ""
    d = divisors[0]
    result = number(head.value / d.value, head.unit)
    return _write(ctx, [head, d], f"{head.display} ÷ {d.display}", result,
                  f"{head.label} per {_noun(d)}")


def _noun(m: Metric) -> str:
    """What one unit of a count is called: "seed investment", "DDI project", "business"."""
    label = m.label.split("(")[0].split(":")[-1].strip()
    low = label.lower()
    for lead in ("number of ", "total ", "estimated "):
        if low.startswith(lead):
            low = low[len(lead):]
    low = re.sub(r"\s*\d{4}.*$", "", low).strip()
    words = low.split()
    if words:
        last = words[-1]
        words[-1] = last[:-3] + "y" if last.endswith("ies") else last[:-1] if last.endswith("s") else last
    noun = " ".join(words)
    for mod in ("fdi", "ddi"):
        noun = re.sub(rf"\b{mod}\b", mod.upper(), noun)
    return noun or "unit"


def _share_of(ctx: Ctx) -> str:
    paired = _share_of_pair(ctx)
    if paired:
        return paired
    head = next((m for m in _candidates(ctx) if ctx.facts.whole(m) is not None), None)
    if head is None:
        return ""
    whole = ctx.facts.whole(head)
    if whole is None or not whole.value or head.is_percent:
        return ""
    share = 100 * head.value / whole.value
    return _write(ctx, [head, whole], f"{head.display} ÷ {whole.display} × 100", f"{share:.1f}%",
                  f"{head.label} as a share of {_lower(whole.label)}")


def _share_of_pair(ctx: Ctx) -> str:
    """"FDI as % of FDI + DDI capex": one side over both, when the question names both."""
    if not {"fdi", "ddi"} <= ctx.frame.modifiers or "uk" in ctx.frame.stems:  # "UK share": not this
        return ""
    for c in _candidates(ctx)[:4]:  # a share asked names the amounts it is a share of
        m = next((s for s in ctx.facts.siblings(c) if not s.is_percent), None) if c.is_percent else c
        twin = ctx.facts.counterpart(m) if m is not None else None
        if twin is None or twin.is_percent:
            continue
        part = _most_named(ctx, m, twin)  # "what share of FDI and DDI combined was DDI"
        other = twin if part is m else m
        share = 100 * part.value / (part.value + other.value)
        return _write(ctx, [part, other], f"{part.display} ÷ ({part.display} + {other.display}) × 100",
                      f"{share:.1f}%", f"{part.label} as a share of {_lower(part.label)} and "
                      f"{_lower(other.label)} combined")
    return ""


def _complement(ctx: Ctx) -> str:
    facts = ctx.facts
    done = ""
    if ctx.frame.stats & {"percent", "share"}:  # "what % didn't stay?": the rest of 100%
        head = next((m for m in _candidates(ctx)[:4] if m.is_percent and "growth" not in m.stats), None)
        if head is not None:
            done = _write(ctx, [head], f"100% − {head.display}", f"{100 - head.value:.1f}%",
                          f"100% minus {_lower(head.label)}")
            if "count" not in ctx.frame.stats:
                return done
    wholes = [facts.whole(m) or m for m in _candidates(ctx)[:4]]  # "seed + venture … left over"
    for head in dict.fromkeys(wholes):
        pair = facts.ratio_parts(head) if head.is_percent else None
        if pair is None and head.is_count:
            pair = next(((a, b) for p in facts.metrics if (ab := facts.ratio_parts(p))
                         for a, b in [ab] if head in (a, b)), None)
        if pair:
            a, b = pair
            return _write(ctx, [a, b], f"{b.display} − {a.display}", number(b.value - a.value, b.unit),
                          f"{b.label} minus {_lower(a.label)}")
        parts = facts.parts(head)
        if parts:  # the whole less its named parts: for the count and for the amount asked
            rest = head.value - sum(p.value for p in parts)
            working = f"{head.display} − " + " − ".join(p.display for p in parts)
            done = _write(ctx, [head, *parts], working, number(rest, head.unit),
                          f"{head.label} not in " + " or ".join(_lower(p.label) for p in parts))
            continue
        if head.is_percent and not done:
            return _write(ctx, [head], f"100% − {head.display}", f"{100 - head.value:.1f}%",
                          f"100% minus {_lower(head.label)}")
    return done or _difference(ctx)  # "offices here but not HQ'd here": the one less the other


def _base_growth(ctx: Ctx) -> str:
    facts = ctx.facts
    for head in _candidates(ctx):
        g = facts.growth(head)
        if g and not head.is_percent:
            base = head.value / (1 + g[0].value / 100)
            return _write(ctx, [head, g[0]], f"{head.display} ÷ (1 + {g[0].display})",
                          number(round(base), head.unit), f"Implied starting level of {_lower(head.label)}")
    return ""


def _base_share(ctx: Ctx) -> str:
    facts = ctx.facts
    for head in _candidates(ctx):
        shares = facts.shares(head) if not head.is_percent else []
        if shares and shares[0].value:
            total = head.value / (shares[0].value / 100)
            return _write(ctx, [head, shares[0]], f"{head.display} ÷ {shares[0].display}",
                          number(total if head.is_money else round(total), head.unit),
                          f"Implied UK total for {_lower(head.label)}")
    return ""


_DO = {"ratio": _ratio, "difference": _difference, "points": _points, "sum": _sum, "relative": _relative,
       "per_unit": _per_unit, "share_of": _share_of, "complement": _complement,
       "base_growth": _base_growth, "base_share": _base_share}


_DURATIONS = ("year", "years", "yrs", "month", "months", "week", "weeks", "day", "days")


def verify(ctx: Ctx) -> str:
    """A claim about a calculated figure ("83.8% retention means ~1,435 didn't stay — right?"):
    the calculation done, the claim checked against its result, the verdict first. Claims about
    stated figures go to ``plan.verify``."""
    f = ctx.frame
    if f.derive and f.numbers:
        trial = scratch(ctx)
        if derive(trial) == "derived" and trial.out.calculations:
            result = quantities(trial.out.calculations[-1].rsplit("=", 1)[-1])
            got = [q for q in f.numbers for r in result[:1] if q.unit == r.unit  # a count for a count,
                   and q.noun not in _DURATIONS]  # not "within 3 years"
            if got:
                r = result[0]
                right = any(abs(q.value - r.value) <= CLOSE * max(abs(r.value), 1e-9) for q in got)
                start = len(ctx.out.lines)
                derive(ctx)
                ctx.out.lines[start] = ("Yes — " if right else "No — ") + ctx.out.lines[start]
                return "verify"
    return _verify_stated(ctx)
