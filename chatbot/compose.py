"""Compose: turn chosen table rows and chunks into answer lines with numbered citations.

In: rows of the metrics table, retrieved chunks, the read question. Out: lines of Markdown in a
``Composer`` (with its citations, calculations and nearest figures). Every number written here
is a row's display value, a quote's own words, or a labelled calculation over cited rows.
"""

from __future__ import annotations

import math
import re

from chatbot.question import generic_name
from chatbot.records import Citation, Hit
from chatbot.retrieve import stem

#: Share of the question's key words (weighted by rarity) a passage must contain to answer it.
MIN_COVERAGE = 0.5
MAX_SENTENCES = 4
_UNIT_WORDS = {"jobs": "jobs", "projects": "projects", "investments": "investments",
               "funds": "funds", "universities": "universities", "companies": "companies"}


class Composer:
    """Collects answer lines and the citations they point to."""

    def __init__(self, multi: bool = False):
        self.multi = multi
        self.lines: list[str] = []
        self.citations: list[Citation] = []
        self.calculations: list[str] = []
        self.metric_ids: list[str] = []
        self.nearest: list[str] = []
        self.retrieved: list[str] = []

    def cite(self, quote: str, section: str, source: str, metric_id: str | None = None,
             chunk_id: str | None = None, highlight: str | None = None, document: str = "") -> int:
        for c in self.citations:
            if c.quote == quote and c.section == section and c.document == document:
                return c.number
        n = len(self.citations) + 1
        self.citations.append(Citation(n, source, section, quote, metric_id, chunk_id, highlight,
                                       document))
        return n

    def cite_row(self, row: dict) -> int:
        self.metric_ids.append(row["metric_id"])
        return self.cite(row["quote"], row["section"], row["source"], row["metric_id"],
                         None, row["display"], row["document"])

    def add(self, line: str) -> None:
        self.lines.append(line)

    def used_citations(self, body: str) -> list[Citation]:
        """Citations referenced in ``body``, in their original numbering."""
        refs = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
        return [c for c in self.citations if c.number in refs]


# ---------------------------------------------------------------------------- rows


def _numbers_of(text: str) -> set[str]:
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def row_text(row: dict, multi: bool = False) -> str:
    """'Label: **value** unit (period) — qualifier. Source: …' for one row."""
    label = row["label"]
    disp = row["display"]
    unit = _UNIT_WORDS.get(row["unit"], "")
    post = f" {unit}" if unit and unit not in label.lower() and unit not in disp else ""
    period = str(row["period"] or "")
    grounded = _numbers_of(row["quote"] + " " + row["source"] + " " + row["footnote"])
    period_part = ""
    if period and _numbers_of(period) <= grounded | _numbers_of(label) and period not in label \
            and not period.startswith("as of"):
        period_part = f" ({period})"
    qual = str(row["qualifier"] or "").strip().rstrip(".")
    qual_part = ""
    if qual and qual != disp and qual.lower() not in label.lower():
        qual_part = f" — {qual}"
    src = row["source"] or "no data source named"
    doc = f" — *{row['document']}*" if multi else ""
    return f"{label}: **{disp}**{post}{period_part}{qual_part}. Source: {src}{doc}"


def figures(c: Composer, rows: list[dict], matcher, overview: str = "",
            compare: bool = False) -> str:
    """One figure, several figures, a section overview, or the conflict between figures."""
    if compare:
        c.add("The snapshot states both figures, for different things:" if
              len({r.get("concept") or r["metric_id"] for r in rows}) > 1 else
              "The snapshot states both figures:")
        for r in rows:
            c.add(f"- {r['section']}: {row_text(r, c.multi)} [{c.cite_row(r)}]")
        return "conflict"
    if overview:
        c.add(f"Figures in the {overview} section:")
        for r in rows:
            c.add(f"- {row_text(r, c.multi)} [{c.cite_row(r)}]")
        return "figures"
    if len(rows) == 1:
        row = rows[0]
        group = matcher.concept_rows(row)
        values = {r["value"] for r in group}
        if len(group) > 1 and len(values) > 1:
            c.add("The snapshot gives different figures for this, depending on the source and "
                  "definition used:")
            for r in [row] + [g for g in group if g is not row]:
                c.add(f"- {r['section']}: {row_text(r, c.multi)} [{c.cite_row(r)}]")
            return "conflict"
        if not row["source"]:  # the same figure stated with its source leads
            row = next((g for g in group if g["source"]), row)
        c.add(f"{row_text(row, c.multi)} [{c.cite_row(row)}]")
        others = [g for g in group if g is not row]
        for g in others:
            c.add(f"The {g['section']} section states the same figure [{c.cite_row(g)}].")
        return "figure"
    for r in rows:
        c.add(f"- {row_text(r, c.multi)} [{c.cite_row(r)}]")
    return "figures"


# ---------------------------------------------------------------------------- calculations


def _decimals(display: str) -> int:
    m = re.search(r"\.(\d+)", display)
    return len(m.group(1)) if m else 0


def _scale_of(display: str) -> tuple[float, str]:
    m = re.search(r"(bn|m|k)%?$", display.replace("\\", ""))
    return {"bn": (1e9, "bn"), "m": (1e6, "m"), "k": (1e3, "k")}.get(m.group(1) if m else "",
                                                                     (1.0, ""))


def fmt(value: float, like: dict, other: dict | None = None) -> str:
    """Format ``value`` the way ``like``'s display is written (currency, scale, decimals)."""
    disp = like["display"].replace("\\", "")
    cur = disp[0] if disp[:1] in "£$" else ""
    scale, suffix = _scale_of(disp)
    v = value / scale
    dec = max(_decimals(disp), _decimals(other["display"]) if other else 0)
    if suffix:
        dec = max(dec, 1) if v != round(v) else dec
        text = f"{v:,.{dec}f}".rstrip("0").rstrip(".") if dec else f"{v:,.0f}"
    elif like["unit"] == "percent":
        text = f"{v:.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{v:,.{dec}f}" if dec else f"{v:,.0f}"
    return f"{cur}{text}{suffix}"


def _compatible(a: dict, b: dict) -> bool:
    if a["unit"] != b["unit"]:
        counts = {"count", "jobs", "projects", "investments", "funds", "companies",
                  "universities", "businesses", "graduates"}
        return a["unit"] in counts and b["unit"] in counts
    return a["unit"] != "date"


def derived(c: Composer, q, a: dict, b: dict) -> str | None:
    """A labelled calculation over two cited rows; None when the units do not compare."""
    if not _compatible(a, b):
        return None
    text = q.text.lower()
    na, nb = c.cite_row(a), c.cite_row(b)
    da, db = a["display"].replace("\\", ""), b["display"].replace("\\", "")
    pct = a["unit"] == "percent"
    if re.search(r"\b(ratio|times|how many times|multiple)\b", text) and b["value"]:
        r = a["value"] / b["value"]
        res = f"{r:.2f}".rstrip("0").rstrip(".")
        calc = f"{da} ÷ {db} = {res}"
        c.add(f"{a['label']} (**{da}**) is **{res}×** {b['label']} (**{db}**) [{na}][{nb}].")
    elif re.search(r"\b(combined|sum|together|altogether|total|plus|add up|added)\b", text):
        res = fmt(a["value"] + b["value"], a, b)
        calc = f"{da} + {db} = {res}"
        c.add(f"{a['label']} (**{da}**) and {b['label']} (**{db}**) together: **{res}** "
              f"[{na}][{nb}].")
    else:
        big, small = (a, b) if a["value"] >= b["value"] else (b, a)
        dbig, dsmall = (da, db) if big is a else (db, da)
        res = fmt(big["value"] - small["value"], big, small)
        word_unit = _UNIT_WORDS.get(a["unit"], "") if a["unit"] == b["unit"] else ""
        unit = " percentage points" if pct else (f" {word_unit}" if word_unit else "")
        calc = f"{dbig} − {dsmall} = {res}{' percentage points' if pct else ''}"
        lead = ""
        if q.verify or q.up or q.down:
            claim_up = bool(re.search(r"\b(higher|more|larger|bigger|greater|exceed\w*|above)\b",
                                      text))
            claim_down = bool(re.search(r"\b(lower|less|fewer|smaller|below)\b", text))
            if claim_up or claim_down:
                truth = (a["value"] > b["value"]) if claim_up else (a["value"] < b["value"])
                lead = ("Yes. " if q.verify else "") if truth else "No. "
        word = "higher" if a["value"] >= b["value"] else "lower"
        c.add(f"{lead}{a['label']} (**{da}**) is {word} than {b['label']} (**{db}**) "
              f"by **{res}**{unit} [{na}][{nb}].")
    return _working(c, calc)


def _working(c: Composer, calc: str) -> str:
    """Record a labelled calculation and show its working under the answer."""
    c.calculations.append(calc)
    c.add(f"Calculation: {calc}")
    return "derived"


def per_unit(c: Composer, money: dict, count: dict) -> str:
    """An average per item, e.g. £107m across 62 seed investments → £1.73m each."""
    n, m = c.cite_row(money), c.cite_row(count)
    each = money["value"] / count["value"]
    scale, suffix = _scale_of(money["display"])
    cur = money["display"].replace("\\", "")[0]
    res = f"{cur}{each / scale:,.2f}{suffix}"
    calc = f"{money['display']} ÷ {count['display']} = {res}"
    c.add(f"On average **{res}** each: {money['label']} (**{money['display']}**) across "
          f"{count['display']} ({count['label']}) [{n}][{m}].")
    return _working(c, calc)


def complement(c: Composer, part: dict, whole: dict) -> str:
    """The rest of a stated a/b: b − a, shown with its working."""
    n, m = c.cite_row(part), c.cite_row(whole)
    res = fmt(whole["value"] - part["value"], whole)
    calc = f"{whole['display']} − {part['display']} = {res}"
    c.add(f"**{res}** did not: the snapshot gives {part['display']} of {whole['display']} "
          f"({part['label']}) [{n}][{m}].")
    return _working(c, calc)


def national(c: Composer, row: dict, nat: dict, gap: dict | None) -> str:
    """A figure against its national comparison, with the gap worked out."""
    n = c.cite_row(row)
    m = c.cite_row(nat)
    d, dn = row["display"], nat["display"]
    res = fmt(abs(nat["value"] - row["value"]), row)
    hi, lo = (dn, d) if nat["value"] >= row["value"] else (d, dn)
    word = "lower" if nat["value"] > row["value"] else "higher"
    line = (f"Nationally: **{dn}** ({nat['label']}) against **{d}** in the Midlands "
            f"({row['label']}), {res} {word} in the Midlands")
    if gap is not None:
        line += f"; the snapshot puts the gap at **{gap['display']}** {word}"
        c.cite_row(gap)
    c.add(line + f" [{n}][{m}].")
    calc = f"{hi} − {lo} = {res}"
    return _working(c, calc)


# ---------------------------------------------------------------------------- checks


def same_value(value: float, unit: str, row: dict) -> bool:
    if unit == "percent" and row["unit"] != "percent":
        return False
    if unit in ("GBP", "USD") and row["unit"] not in ("GBP", "USD"):
        return False
    return math.isclose(value, float(row["value"]), rel_tol=1e-6, abs_tol=1e-9)


def verify(c: Composer, q, row: dict, matcher) -> str:
    """Yes or no first, then the snapshot's figure."""
    group = matcher.concept_rows(row)
    if q.numbers:
        hit = next((r for r in [row, *group] for v, u in q.numbers if same_value(v, u, r)), None)
        if hit is not None:
            wrong_way = _direction_conflict(q, hit)
            c.add(("No — the direction is wrong. " if wrong_way else "Yes. ")
                  + f"{row_text(hit, c.multi)} [{c.cite_row(hit)}]")
            panel = matcher.by_id.get(hit.get("panel") or "")
            if panel is not None and panel is not hit:
                c.add(f"{row_text(panel, c.multi)} [{c.cite_row(panel)}]")
        else:
            c.add("No. The snapshot gives a different figure: "
                  f"{row_text(row, c.multi)} [{c.cite_row(row)}]")
        return "verify"
    wrong_way = _direction_conflict(q, row)
    c.add(("No. " if wrong_way else "Yes. ") + f"{row_text(row, c.multi)} [{c.cite_row(row)}]")
    return "verify"


def _direction_conflict(q, row: dict) -> bool:
    text = (row["label"] + " " + row["qualifier"]).lower()
    grows = bool(re.search(r"\b(growth|increase|higher|more)\b", text))
    shrinks = bool(re.search(r"\b(lower|decline|fall|less|fewer)\b", text))
    return (q.down and grows and not q.up) or (q.up and shrinks and not q.down)


# ---------------------------------------------------------------------------- provenance


def provenance(c: Composer, rows: list[dict], footnotes_of) -> str:
    """Where each figure comes from: its resolved footnote, in the snapshot's words."""
    for row in rows[:3]:
        n = c.cite_row(row)
        notes = footnotes_of(row)
        if row["source"] and notes:
            nums = dict.fromkeys(
                c.cite(ch.quote, ch.section, row["source"], None, ch.chunk_id, None, ch.document)
                for ch in notes)
            refs = "".join(f"[{k}]" for k in nums)
            qual = str(row["qualifier"] or "").rstrip(".")
            qual = f" — {qual}" if qual and qual.lower() not in row["label"].lower() else ""
            c.add(f"{row['label']} (**{row['display']}**{qual}; {row['section']}) comes from "
                  f"**{row['source']}** — the section's footnote reads “{notes[0].quote}” [{n}]{refs}.")
        elif notes:
            ch = notes[0]
            m = c.cite(ch.quote, ch.section, "", None, ch.chunk_id, None, ch.document)
            c.add(f"The snapshot names no data source for {row['label']} (**{row['display']}**, "
                  f"{row['section']}) [{n}]. Its data note says how figures were compiled [{m}].")
        else:
            c.add(f"The snapshot names no data source for {row['label']} "
                  f"(**{row['display']}**, {row['section']}) [{n}].")
    return "provenance"


# ---------------------------------------------------------------------------- prose


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z£$\d])", text)
    return [p.strip() for p in parts if len(p.strip()) > 3]


def _stem6(word: str) -> str:
    w = stem(word)
    return w[:6] if len(w) > 6 else w


def acronyms(text: str) -> dict[str, set[str]]:
    """Acronyms the text spells out: "Office for Life Sciences (OLS)" → {"ols": {office, …}}."""
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"((?:[A-Z][a-z]+\s+(?:(?:for|of|and)\s+)?){1,6})\(([A-Z]{2,6})\)", text):
        words = [w for w in m.group(1).split() if w[0].isupper()]
        if "".join(w[0] for w in words)[-len(m.group(2)):] == m.group(2):
            out[m.group(2).lower()] = {_stem6(w.lower()) for w in words[-len(m.group(2)):]}
    caps = set(re.findall(r"\b[A-Z]{3,6}\b", text))  # acronyms the text uses, found once
    for m in re.finditer(r"\b((?:[A-Z][a-z]+\s+){1,4}[A-Z][a-z]+)\b", text):
        words = m.group(1).split()
        acro = "".join(w[0] for w in words)
        if len(acro) >= 3 and acro in caps:
            out.setdefault(acro.lower(), {_stem6(w.lower()) for w in words})
    return out


def best_sentences(q, hits: list[Hit], vocab=None, every: bool = False,
                   expand: dict[str, set[str]] | None = None) -> list[tuple[str, object, float]]:
    """Sentences (or list items) from the top chunks that cover the question's key words.

    Words the snapshot never uses weigh 1.5 (they ask for something it does not say); names
    the question gives (a place, an organisation) must appear in the passage.
    """
    key = [k for k in dict.fromkeys(q.key)]
    if not key:
        return []
    known = vocab.stems if vocab is not None else None
    weights = {k: (1.0 + (1.0 if len(k) > 5 else 0.0)) if (known is None or k in known) else 1.5
               for k in key}
    total = sum(weights.values())
    names = [n.lower() for n in q.proper if not generic_name(n)] + list(q.years)
    found: list[tuple[str, object, float, int]] = []
    for rank, h in enumerate(hits):
        ch = h.chunk
        context = {_stem6(w) for w in re.findall(r"[a-z0-9]+", (ch.section + " " + ch.text).lower())}
        units = [ch.quote] if ch.kind in ("list", "figure", "table_row", "chart", "footnote") \
            else _sentences(ch.quote)
        for s in units:
            low = s.lower()
            if any(n not in low and n not in ch.text.lower() for n in names):
                continue
            toks = {_stem6(w) for w in re.findall(r"[a-z0-9]+", low)} | context
            for acro, spelled in (expand or {}).items():
                if acro in toks:
                    toks |= spelled
                elif spelled <= toks:
                    toks.add(acro)
            covered = sum(weights[k] for k in key if _stem6(k) in toks)
            cov = covered / total
            if cov >= MIN_COVERAGE:
                found.append((s, ch, cov, rank))
    if not found:
        return []
    found.sort(key=lambda t: (-round(t[2], 3), t[3]))
    best = found[0][2]
    out, seen = [], set()
    for s, ch, cov, _r in found:
        if cov < (MIN_COVERAGE if every else max(MIN_COVERAGE, 0.75 * best)) or s in seen:
            continue
        seen.add(s)
        out.append((s, ch, cov))
        if len(out) >= (2 * MAX_SENTENCES if every else MAX_SENTENCES):
            break
    return out


def prose(c: Composer, q, picked) -> str:
    """Extractive answer: the snapshot's own sentences, each cited."""
    c.retrieved.extend(ch.chunk_id for _s, ch, _c in picked)
    lines = []
    for s, ch, _cov in picked:
        n = c.cite(s, ch.section, ch.source, None, ch.chunk_id, None, ch.document)
        lines.append(f"{s} [{n}]")
    if len(lines) == 1:
        c.add(lines[0])
    else:
        for ln in lines:
            c.add(f"- {ln}")
    return "list" if q.listing and picked[0][1].kind == "list" else "prose"


def not_found(c: Composer, nearest: list[dict], why: str = "") -> str:
    """The honest answer: the snapshot doesn't say; here is what it does have."""
    c.add("The snapshot doesn't say" + (f" — {why}" if why else "") + ".")
    if nearest:
        c.add("Nearest figures it does have:")
        for r in nearest:
            c.add(f"- {row_text(r, c.multi)} [{c.cite_row(r)}]")
            c.nearest.append(f"{r['label']}: {r['display']}")
    return "not_found"
