"""Terms: what an abbreviation or a measure means, in the snapshot's own words — the
expansion it spells out (FDI → Foreign Direct Investment) or the footnote that says what a
figure counts ("20%+ company growth percentage per year").

In: a ``Ctx`` (see ``plan``); ``extras`` carries the glossary (``glossary.build``). Out: lines
in the composer, or an explanation when the snapshot defines nothing.
"""

from __future__ import annotations

from chatbot.plan import Ctx, footnote
from chatbot.text import STOPWORDS
from chatbot.tuning import DEFINING_WORDS


def define(ctx: Ctx) -> str:
    """An abbreviation the snapshot spells out, or the footnote that defines a measure; "" if
    the snapshot defines neither."""
    glossary: dict = ctx.extras.get("glossary", {})
    asked = [a for a in ctx.frame.acronyms if a in glossary] or \
        [t.upper() for t in ctx.frame.tokens if t.upper() in glossary]
    out = ctx.out
    unknown = [a for a in ctx.frame.acronyms if a not in glossary and len(a) > 1]
    if unknown and not asked:  # an abbreviation the snapshot uses without spelling it out
        used = next((p for p in ctx.verdict.passages if unknown[0] in p.text), None)
        if used is not None:
            shown = used.text if len(used.text) <= 120 else used.text[:120].rsplit(" ", 1)[0] + " …"
            out.add(f"The snapshot doesn't spell out {unknown[0]}; it uses it in “{shown}” "
                    f"[{out.cite_passage(used.text, used.chunk)}].")
            return "not_found"
        if not ctx.frame.measures:  # "what does ZZQ mean?" ("HGC" names a measure: its footnote)
            out.add(f"The snapshot doesn't mention {unknown[0]}.")
            return "not_found"
    for acro in asked[:2]:
        (expansion, text, chunk), *others = glossary[acro]
        said = f"In the snapshot, {acro} stands for **{expansion}** [{out.cite_passage(text, chunk)}]"
        out.add(said + "".join(f"; it is also written **{w}** [{out.cite_passage(s, c)}]"
                               for w, s, c in others) + ".")
    close = [m for m in ctx.verdict.figures or [c.metric for c in ctx.evidence.figures]
             if m.measures & ctx.frame.measures]  # the closest first, then any of that measure
    close.sort(key=lambda m: not any(q.value == m.value for q in ctx.frame.numbers))  # "the 10 unis"
    defined = next((m for m in close if _defines(m)), None) or \
        next((m for m in ctx.facts.metrics if m.measures & ctx.frame.measures and _defines(m)), None)
    note = footnote(ctx, defined) if defined is not None else None
    if note is not None and (not asked or defined.label.lower().startswith(
            glossary[asked[0]][0][0].lower().split()[0])):
        out.add(f"The snapshot defines {defined.label.lower()} in a footnote: “{note.quote}” "
                f"[{out.cite_passage(note.quote, note)}].")
    return "define" if out.lines else ""  # nothing defined: the caller explains instead


def _defines(m) -> bool:
    """Does the figure's footnote say what it counts ("20%+ company growth percentage per year"),
    beyond naming its source ("Data City, 2023", "ONS ASHE, 2021 - relevant sectors")?"""
    said = [w for w in m.footnote.split() if w.isalpha() and w.islower() and w not in STOPWORDS]
    return len(said) >= DEFINING_WORDS or any(ch in m.footnote for ch in "%>+")  # "GPA >3.0"
