"""Synthetic snapshots: N documents in the layout of the real Midlands cluster snapshot.

In: the real snapshot text (``corpus/midlands-engine-ddhi-cluster-snapshot-2023.txt``) as a
template, a count and a seed. Out: N text files in a folder, each a different cluster
("Advanced Manufacturing", "Agri-Tech", "Low Carbon", …) with its own place names and figures,
laid out line for line like the template so ``chatbot.ingest.parse`` reads it the same way.

What varies, deterministically from the seed:

- the cluster name, in every casing the template writes it (running header, title page,
  chart captions, running text);
- the Midlands place names (cities, campuses, universities, counties);
- every figure: counts, money, percentages, the word number ("eight"). The same figure in the
  template becomes the same figure everywhere in one document, so a document stays consistent
  with itself. Years, year ranges ("2017-21"), footnote markers, list numbers and thresholds
  that define a category ("£100m+", "20%+", "GPA >3.0", "top 25", "3 years") stay as they are.

Titles are unique across one call (the engine names documents by title), and the first four
words of each title differ too: the engine prefixes metric and chunk ids with them.

    .venv/bin/python eval/synth.py 10 /tmp/synth --seed 7   # writes 10 files, checks each parses
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "corpus" / "midlands-engine-ddhi-cluster-snapshot-2023.txt"

#: Midlands Engine style cluster names (each at most three words: see the module docstring).
CLUSTERS = (
    "Advanced Manufacturing", "Agri-Tech", "Low Carbon", "Space Technologies", "Creative Content",
    "Cyber Security", "Rail Innovation", "Future Mobility", "Aerospace", "Food and Drink",
    "Medical Technologies", "Logistics", "Life Sciences", "Fintech", "Professional Services",
    "Sport Science", "Visitor Economy", "Textiles", "Ceramics", "Energy Storage", "Hydrogen",
    "Nuclear Engineering", "Battery Technology", "Games Development", "Photonics",
    "Quantum Technologies", "Robotics", "Advanced Materials", "Water Technology", "Construction",
)
#: Used in front of a cluster name once the plain names run out.
QUALIFIERS = ("Digital", "Sustainable", "Smart", "Applied", "Clean", "Precision", "Connected",
              "Industrial", "Circular", "Intelligent")
#: Cluster-name spellings in the template, longest first, and how each is re-cased.
NAME_FORMS = (
    ("DATA DRIVEN HEALTHCARE INNOVATION", "upper"),
    ("DATA-DRIVEN HEALTHCARE INNOVATION", "upper"),
    ("Data Driven Healthcare Innovation", "title"),
    ("Data-driven healthcare innovation", "sentence"),
    ("data-driven healthcare innovation", "lower"),
    ("data driven healthcare innovation", "lower"),
    ("data-driven health innovation", "lower"),
    ("data-driven healthcare", "lower"),
    ("data driven healthcare", "lower"),
)
#: Template place names → the pool their replacement is drawn from (longest names first).
PLACES = (
    ("North Lincolnshire", "district"), ("Leicestershire", "county"), ("Loughborough", "town"),
    ("Birmingham", "town"), ("Nottingham", "town"), ("Charnwood", "town"), ("Leicester", "town"),
    ("Coventry", "town"), ("Solihull", "town"), ("Warwick", "town"), ("Lincoln", "town"),
    ("Keele", "town"), ("Aston", "town"),
)
POOLS = {
    "town": ("Derby", "Wolverhampton", "Worcester", "Hereford", "Shrewsbury", "Telford", "Stafford",
             "Lichfield", "Tamworth", "Nuneaton", "Rugby", "Northampton", "Mansfield",
             "Chesterfield", "Grantham", "Hinckley", "Redditch", "Kidderminster", "Walsall",
             "Dudley", "Kettering", "Corby", "Newark", "Melton", "Stamford", "Ludlow", "Buxton",
             "Matlock", "Leek", "Stourbridge"),
    "county": ("Staffordshire", "Derbyshire", "Worcestershire", "Shropshire", "Herefordshire",
               "Northamptonshire", "Warwickshire", "Nottinghamshire", "Rutland"),
    "district": ("South Derbyshire", "East Staffordshire", "North Warwickshire", "West Lindsey",
                 "South Holland", "North Kesteven", "East Lindsey", "Bassetlaw"),
}
WORDS = ("two three four five six seven eight nine ten eleven twelve").split()

_NUM_RE = re.compile(
    r"(?P<cur>\\?\$|£)?(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)(?P<scale>bn|m|k)?(?P<pct>%)?")
_WORD_RE = re.compile(r"\b(" + "|".join(WORDS) + r")\b(?= £)")
_YEAR_RANGE_RE = re.compile(r"\b(?:19|20)\d{2}\s*[-–]\s*\d{2,4}\b")
_KEEP_BEFORE = re.compile(r"(?:top |>|\^\{[\d,]*|REF |(?<!\d)\d{2}/)$")
_KEEP_AFTER = re.compile(r"^(?:\+|%\+|m\+|GPA|\.\s\*\*| years| Local Authorities|/\d{2}\b)")


@dataclass(frozen=True)
class Synthetic:
    """One generated document: its cluster name, title and file."""

    cluster: str
    title: str
    path: Path


def cluster_names(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct cluster names, shuffled by ``seed``; qualified names after the plain ones."""
    rng = random.Random(seed)
    plain = list(CLUSTERS)
    rng.shuffle(plain)
    names = list(plain)
    for q in QUALIFIERS:
        names += [f"{q} {c}" for c in plain]
    if n > len(names):
        names += [f"{c} {i}" for i in range(2, n // len(names) + 3) for c in plain]
    return names[:n]


def _recase(name: str, how: str) -> str:
    if how == "upper":
        return name.upper()
    if how == "title":
        return name
    low = name.lower()
    return low[:1].upper() + low[1:] if how == "sentence" else low


def _fmt(value: float, decimals: int, commas: bool) -> str:
    text = f"{value:,.{decimals}f}" if commas else f"{value:.{decimals}f}"
    return text


def _vary_number(token: re.Match, rng: random.Random) -> str:
    """A new figure in the same format as ``token`` (currency, commas, decimals, scale, %)."""
    num = token.group("num")
    decimals = len(num.split(".")[1]) if "." in num else 0
    value = float(num.replace(",", ""))
    new = value * rng.uniform(0.45, 1.6)
    if token.group("pct"):
        new = min(max(new, 0.5 if decimals else 1), 95)
    if decimals == 0:
        new = max(1, round(new))
        if new == value:
            new += 1
        if 1900 <= new <= 2100 and "," not in num:  # would read as a year
            new += 250
    commas = "," in num or (new >= 1000 and decimals == 0 and token.group("cur") is not None)
    return (f"{token.group('cur') or ''}{_fmt(new, decimals, commas)}"
            f"{token.group('scale') or ''}{token.group('pct') or ''}")


def _protected(text: str, m: re.Match) -> bool:
    """Figures that are part of a date, a reference or a category's definition stay put."""
    num = m.group("num")
    whole = m.group(0)
    if re.fullmatch(r"(?:19|20)\d{2}", num) and not m.group("cur") and not m.group("pct"):
        return True  # a year
    before = text[max(0, m.start() - 12):m.start()]
    after = text[m.end():m.end() + 20]
    if _KEEP_BEFORE.search(before) or _KEEP_AFTER.match(after):
        return True
    if whole.endswith("m") and after.startswith("+"):
        return True
    line_start = text.rfind("\n", 0, m.start()) + 1
    if re.fullmatch(r"\s*", text[line_start:m.start()]) and after.startswith(". "):
        return True  # a numbered list item
    return False


def vary(template: str, cluster: str, seed: int) -> str:
    """The template rewritten for ``cluster`` with its own places and figures (deterministic)."""
    rng = random.Random(f"{seed}:{cluster}")
    text = template
    for form, how in NAME_FORMS:
        text = text.replace(form, _recase(cluster, how))
    pools = {k: rng.sample(v, len(v)) for k, v in POOLS.items()}
    mapping = {old: pools[kind].pop() for old, kind in PLACES}
    text = re.sub(r"\b(" + "|".join(re.escape(o) for o, _ in PLACES) + r")\b",
                  lambda m: mapping[m.group(1)], text)
    protected_spans = [m.span() for m in _YEAR_RANGE_RE.finditer(text)]
    memo: dict[str, str] = {}

    def number(m: re.Match) -> str:
        if any(s <= m.start() < e for s, e in protected_spans) or _protected(text, m):
            return m.group(0)
        if m.group(0) not in memo:
            memo[m.group(0)] = _vary_number(m, rng)
        return memo[m.group(0)]

    text = _NUM_RE.sub(number, text)
    words = {w: rng.choice([x for x in WORDS if x != w]) for w in WORDS}
    return _WORD_RE.sub(lambda m: words[m.group(1)], text)


def _file_name(cluster: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", cluster.lower()).strip("-")
    return f"midlands-engine-{stem}-cluster-snapshot-2023.txt"


def generate(n: int, folder: Path, seed: int = 0, template: Path = TEMPLATE) -> list[Synthetic]:
    """Write ``n`` synthetic snapshots into ``folder``; each is checked with ``ingest.parse``."""
    from chatbot.ingest import parse

    raw = template.read_text(encoding="utf-8")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Synthetic] = []
    for cluster in cluster_names(n, seed):
        path = folder / _file_name(cluster)
        text = vary(raw, cluster, seed)
        path.write_text(text, encoding="utf-8")
        snap = parse(text, path)  # raises CorpusError on a layout the parser cannot read
        out.append(Synthetic(cluster, snap.title, path))
    titles = Counter(s.title for s in out)
    if max(titles.values(), default=0) > 1:
        raise ValueError(f"duplicate titles: {[t for t, c in titles.items() if c > 1]}")
    return out


def layout(raw: str, path: str = "snapshot.txt") -> dict[str, object]:
    """The parsed shape of a snapshot: what must match the template's for a fair benchmark."""
    from chatbot.ingest import parse

    snap = parse(raw, path)
    return {
        "sections": tuple(snap.sections),
        "panels": tuple((p.section, p.kind, bool(p.value), len(p.items), p.markers)
                        for p in snap.panels),
        "footnotes": tuple(sorted(snap.footnotes)),
        "block_kinds": tuple(sorted(Counter(snap.block_kinds.values()).items())),
    }


def compare_layout(path: Path, template: Path = TEMPLATE) -> list[str]:
    """How ``path`` parses differently from the template (empty when the layout is the same)."""
    want = layout(template.read_text(encoding="utf-8"), str(template))
    got = layout(Path(path).read_text(encoding="utf-8"), str(path))
    return [f"{k}: template {want[k]!r} != {got[k]!r}" for k in want if want[k] != got[k]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="how many documents")
    ap.add_argument("folder", type=Path, help="where to write them")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    docs = generate(args.n, args.folder, args.seed)
    bad = 0
    for d in docs:
        diff = compare_layout(d.path)
        bad += bool(diff)
        print(f"{d.path.name}\t{d.title}" + ("" if not diff else "\t" + "; ".join(diff)))
    print(f"{len(docs)} documents, {len(docs) - bad} with the template's layout", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
