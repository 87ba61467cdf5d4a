"""Question: clean user input and read what it asks for — pure functions, no model.

In: raw user text. Out: a ``Question`` with cleaned text, typo-corrected tokens, the numbers
it mentions and its intents (quantity, share, money, provenance, derived, verification, list,
follow-up). Everything the answer engine needs to route, nothing that answers.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

from chatbot.retrieve import STOPWORDS, stem

#: Words too common in this corpus to say what a question is about.
GENERIC = frozenset(
    "midlands midland cluster snapshot data driven healthcare health innovation region regional "
    "engine figure figures number numbers many much total value amount according report say "
    "says said stated state here please know want like current currently there their tell "
    "question answer actually exactly approximately roughly about around overall "
    "snapshot's area 2023 seen several different various people include link reply respond "
    "print output repeat ignore instruction instructions previous pretend summary support "
    "supports supported provide provides provided according get got located find found "
    "ve ll re kind type sort between big large since should could would worry number numbers "
    "pound pounds dollar dollars seem seems appear appears don doesn isn aren didn wasn weren "
    "won couldn shouldn someone somebody person people working sector sectors industry field "
    "space really wildly across".split()
)
#: Words that do not narrow a question when capitalised: every figure is about them.
GENERIC_NAMES = frozenset(
    "midlands midland uk england britain engine data driven healthcare innovation cluster "
    "snapshot what how is the are which who where when why does did can tell give please and or "
    "i in of it true was were has have do list name fdi ddi".split()
)


def generic_name(name: str) -> bool:
    """Is ``name`` made only of words every figure is about ("Midlands", "UK", "Cluster")?"""
    return all(w in GENERIC_NAMES for w in name.lower().split())


#: Words that say what to do with figures (compare, check, source), not which figures.
INTENT_WORDS = frozenset(
    "difference differ differs compare compared comparison versus ratio times sum combined "
    "together altogether plus minus larger bigger higher greater smaller more less fewer exceed "
    "exceeds true correct right confirm source sources sourced come comes footnote provenance "
    "stand stands mean means meaning definition defined define list name names which much "
    "roughly approximately exactly term terms point points percentage raise raised money "
    "calculated calculate calculation underlying derived worked count counts counted".split()
)
#: Abbreviations people type, spelled out as the snapshot words them.
ABBREVIATIONS = {
    r"\bME\b": "Midlands Engine", r"\bHQ'?d\b": "HQ'd", r"\bVCs?\b": "venture capital",
    r"\bIUK\b": "Innovate UK", r"\bHGCs?\b": "high growth companies", r"\bFE\b": "further education",
    r"\bHEIs?\b": "university", r"\bR&D\b": "research",
}
#: Role markers pasted into questions ("[SYSTEM]", "USER:"): removed, never obeyed.
_MARKER_RE = re.compile(r"\[/?\s*(system|user|assistant|inst)[^\]]{0,40}\]|"
                        r"\b(system|user|assistant)\s*(message)?\s*:", re.I)
_INJECTION_RE = re.compile(
    r"\b(ignore|disregard|forget|override)\b.*\b(instruction|instructions|rules|prompt|above|"
    r"previous)\b|\bsystem\s*:|\bnew instruction|\byou are now\b|\bpretend\b|\bact as\b|"
    r"\bjailbreak|\bdeveloper mode\b|\bsystem prompt\b|\bsay (that|the)\b|\breply with\b|"
    r"\binclude this\b|\balways (quote|say|answer|use)\b|\bfrom now on\b|\breply only\b|"
    r"\b(was|has been) updated\b|\bis now\b", re.I)
_TYPE_WORDS = {
    "fdi": ("fdi", "foreign direct", "foreign investment", r"foreign(?![- ]own)"),
    "ddi": ("ddi", "domestic direct", "domestic investment", "domestic"),
}
#: Phrases people use for what the snapshot words differently (general business vocabulary,
#: not answers): replaced before the question is read.
PHRASES = {
    r"start[- ]?ups?|new (companies|firms|businesses) (set up|formed|founded|registered)|"
    r"companies (set up|formed|founded)|firms (set up|formed|founded)": "incorporations",
    r"head ?offices?|headquarter(s|ed)|based here|hq'?d": "HQ'd",
    r"home[- ]grown|uk[- ]owned|domestic(ally)? (owned|sourced)": "domestic",
    r"foreign money|overseas investment|inward investment from abroad|foreign[- ]owned money":
        "foreign direct investment",
    r"capital (spend|spending|expenditure|investment)|investment spend": "capex",
    r"college leavers|further education": "FE leavers",
    r"spin[- ]?(offs?|outs?)": "spinouts",
    r"parent compan(y|ies)|owners? (are|is) from|owned from": "foreign ownership countries",
    r"\bgripes?|complaints?|grievances?|biggest problem|main problem|pain points?": "frustration",
    r"\bproducts?\b|what .* make\b": "applications solutions",
    r"(national|central|uk) government": "UK policy",
    r"\bspike|\bpeak": "height",
    r"\bmap\b": "graph",
    r"\bpeople (working|work|employed)\b|\bemploy(s|ment)?\b|\bworkforce\b": "employees",
    r"\bwages?\b|\bpay\b|\bearnings\b": "salary",
    r"funding rounds?|fundraising rounds?|investment rounds?|\bdeals?\b": "fundraising investment",
}
#: Words people use for the same thing the snapshot names differently.
SYNONYMS = {
    "grown": "growth", "grew": "growth", "grow": "growth", "growing": "growth",
    "pay": "salary", "wage": "salary", "wages": "salary", "earn": "earnings",
    "firms": "companies", "firm": "company", "startups": "incorporations",
    "staff": "employees", "workers": "employees", "employed": "employees",
    "spinout": "spinouts", "spin": "spinouts", "headquartered": "hq",
    "mny": "many", "meny": "many", "hw": "how", "wht": "what", "wat": "what", "wats": "what",
    "whats": "what", "avg": "average", "projs": "projects", "proj": "projects",
    "headcount": "employees", "slice": "share",
}
_MEASURE_WORDS = {
    "capex": ("capex", "capital expenditure", "capital investment", "capital"),
    "jobs": ("jobs", "job", "employment created", "jobs created"),
    "projects": ("projects", "project"),
}
_SHARE_RE = re.compile(r"\b(share|slice|percent|percentage|proportion|fraction|% of|of (the )?uk|"
                       r"uk total|of all|national share)\b|%", re.I)
_MONEY_RE = re.compile(r"\b(money|pounds|sterling|dollars|worth|revenue|turnover|spend|"
                       r"spent|budget|raised|raise|gbp|usd)\b|£|\$", re.I)
_QUANTITY_RE = re.compile(
    r"\b(how many|how much|number of|no\. of|count of|total|amount|what percentage|what share|"
    r"what proportion|how big|how large|how high|average|median|mean size|the mean|size of|"
    r"what (is|was|are|were) the "
    r"(\w+ ){0,3}(figure|number|count|value|share|percentage|proportion|level|size|rate|total|"
    r"salary|population))\b", re.I)
_PROVENANCE_RE = re.compile(
    r"\b(source|sources|sourced|where (does|do|did|is|are) .*(come|from|get)|come from|comes from|"
    r"who (collected|compiled|produced|measured|says|provides|published)|data provider|"
    r"provenance|footnote|according to whom|based on what|which dataset|what dataset|"
    r"which (academic |calendar )?year|what (academic )?(year|period|time period)|relate to|"
    r"refer to|(which|what) (ranking|survey|database|dataset|data source|index)|"
    r"what (\w+ )?(year|period)|based on|"
    r"where\b.{0,30}\b(figure|number|data|stat\w*|that|this|it)\b.{0,20}\bfrom|"
    r"where('s| is| does| did) (that|this|it)\b)\b", re.I)
_DEFINE_RE = re.compile(r"\b(stand for|stands for|means|meaning|definition|defined|define|"
                        r"what is meant|acronym|abbreviation|counts as|count as|qualifies as|"
                        r"what does \w+ mean)\b|\bmean\?", re.I)
#: Asking for a split the snapshot's cluster-wide figures cannot give.
_BREAKDOWN_RE = re.compile(
    r"\b(split|breakdown|broken down|by (gender|age|sex|ethnicity|subsector|company|firm|town|"
    r"city|county|postcode|occupation|job title|role)|for each|per (company|firm|town|city)|"
    r"specifically|in particular|for (software|engineers|nurses|doctors|women|men|graduates only)|"
    r"(are|is) (women|men|female|male)|gender|ethnic\w*|age groups?|disab\w*)\b",
    re.I)
_CONFLICT_RE = re.compile(r"\b((don'?t|do not|doesn'?t|does not) (seem to |appear to )?"
                          r"(agree|match|add up|tally)|disagree|inconsistent|contradict\w*|"
                          r"conflict\w*|which is (right|correct)|different (numbers|figures)|"
                          r"several (numbers|figures)|don'?t match|do not match|why .* differ)\b",
                          re.I)
_WHY_RE = re.compile(r"^\s*why\b|\b(reason|reasons|explain|explanation|how come|caveat|"
                     r"discrepanc\w*)\b|\bhow (is|are|was|were|do|does|did) .*\b(calculated|"
                     r"measured|estimated|compiled|counted|derived|allocated)\b", re.I)
_NAMES_RE = re.compile(r"\b(names?|which (ones|company|companies|firm|firms|universities|"
                       r"organisations|organizations|bodies|hubs)|list (the|of|all)|who are)\b",
                       re.I)
_DATE_Q_RE = re.compile(r"\b(as of when|how recent|how up to date|how current|how old is the data|"
                        r"when (is|was|were) (the|this) data|data date|what date|date of the data)\b",
                        re.I)
_DERIVED_RE = re.compile(
    r"\b(difference|differ by|gap between|how much (more|less|higher|lower|bigger|larger|smaller)|"
    r"how many more|how many fewer|by how much|minus|subtract|ratio|times (as|more|larger|bigger)|"
    r"how many times|combined|sum of|add up|added together|together|in total|altogether|plus|"
    r"total of|"
    r"which is (larger|bigger|higher|greater|smaller|lower)|more than|less than|fewer than|"
    r"higher than|lower than|larger than|bigger than|smaller than|exceed|compare|compared|versus|"
    r"vs\.?|percentage points)\b|\b(more|less|higher|lower|bigger|larger|smaller|greater|fewer)\b"
    r".{0,60}\bthan\b", re.I)
_VERIFY_RE = re.compile(
    r"^(is it (true|correct|right|the case)|isn'?t|aren'?t|wasn'?t|weren'?t|didn'?t|doesn'?t|"
    r"is|are|was|were|did|does|do|has|have|had|can you "
    r"confirm|confirm|true or false|am i right)\b|\b(is it true|is that (true|right|correct)|"
    r"right\?|correct\?)", re.I)
_LIST_RE = re.compile(
    r"\b(which|list|name|names|what are the|what were the|who are the|enumerate|identify|"
    r"mention(ed)?|give me (all|the|a list)|all the \w+s)\b", re.I)
_FOLLOWUP_RE = re.compile(
    r"^(and|what about|how about|and what about|what of|same for|also|ok(ay)?,? (and|what))\b|"
    r"\b(that|this|it|those|these|there|same|them|its)\b", re.I)
_NATIONAL_RE = re.compile(r"\b(national(ly)?|uk average|across the uk|rest of the uk|"
                          r"compare(d)? (to|with) the uk|england)\b", re.I)
_DIRECTION_DOWN = re.compile(r"\b(fall|fell|fallen|decline[ds]?|declining|decrease[ds]?|drop(ped)?|"
                             r"shrink|shrank|shrunk|lower|less|fewer|reduc\w*|down)\b", re.I)
_DIRECTION_UP = re.compile(r"\b(grow|grew|grown|growth|increase[ds]?|rise|rose|risen|higher|more|"
                           r"up|gain\w*|expan\w*)\b", re.I)
_FUTURE_RE = re.compile(r"\b(will|forecast\w*|predict\w*|projection|projected|next (year|decade)|"
                        r"in (20[3-9]\d)|by (20[3-9]\d)|future|going to (be|happen|grow|rise|"
                        r"fall|increase|decrease|change))\b", re.I)
_NUMBER_RE = re.compile(r"(?<![\w.])([$£])?(\d[\d,]*(?:\.\d+)?)\s*(bn|m|k|million|billion)?(%)?",
                        re.I)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Question:
    """A user question, cleaned and read."""

    text: str  # cleaned text the engine works on
    tokens: tuple[str, ...]  # lower-cased, typo-corrected, stemmed content tokens
    key: tuple[str, ...]  # tokens that say what is asked about (no generic words)
    numbers: tuple[tuple[float, str], ...]  # (value, unit) mentioned
    proper: tuple[str, ...]  # capitalised names and acronyms as typed
    years: tuple[str, ...]
    narrow: tuple[str, ...] = ()  # unknown words a figure would have to be "of" or "for"
    types: frozenset[str] = field(default_factory=frozenset)  # fdi / ddi
    measures: frozenset[str] = field(default_factory=frozenset)  # capex / jobs / projects
    share: bool = False
    money: bool = False
    quantity: bool = False
    provenance: bool = False
    derived: bool = False
    verify: bool = False
    listing: bool = False
    followup: bool = False
    define: bool = False
    conflict: bool = False
    names: bool = False
    explicit_money: bool = False
    count: bool = False
    why: bool = False
    premise: bool = False
    breakdown: bool = False
    date: bool = False
    national: bool = False
    future: bool = False
    down: bool = False
    up: bool = False


def sanitize(text: object, max_chars: int) -> tuple[str, list[str]]:
    """Make any input safe to read: str, no control bytes or lone surrogates, bounded length."""
    notices: list[str] = []
    if text is None:
        text = ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = str(text)
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL_RE.sub(" ", text)
    if len(text) > max_chars:
        text = text[:max_chars]
        notices.append(f"Your question was longer than {max_chars:,} characters; only the first "
                       f"{max_chars:,} were read.")
    return " ".join(text.split()), notices


def words(text: str) -> list[str]:
    """Lower-case words; hyphens and apostrophes split ("foreign-owned" → foreign, owned)."""
    return [w for w in re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", text.lower()) if w != "s"]


class Vocabulary:
    """Words of the corpus, for typo correction ("avrage salery" → "average salary")."""

    def __init__(self, texts: list[str]):
        vocab: set[str] = set()
        for t in texts:
            vocab.update(w.strip("'’-") for w in words(t))
        self.words = sorted(w for w in vocab if len(w) >= 2)
        self.set = frozenset(self.words)
        self.stems = frozenset(stem(w) for w in self.words)
        self.acronyms = frozenset(a for t in texts for a in re.findall(r"\b[A-Z]{2,6}\b", t))
        self._cache: dict[str, str] = {}

    def correct(self, word: str) -> str:
        if word in self.set or len(word) < 4 or not word.isalpha() or word in STOPWORDS:
            return word
        if stem(word) in self.stems:
            return word
        if word not in self._cache:
            # Same first letter and a close spelling: "salery" → "salary", not "fall" → "all".
            pool = [w for w in self.words if w[0] == word[0] and abs(len(w) - len(word)) <= 2]
            cutoff = 0.8 if len(word) >= 5 else 0.75
            match = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
            self._cache[word] = match[0] if match else word
        return self._cache[word]


def _slots(text: str, table: dict[str, tuple[str, ...]]) -> frozenset[str]:
    low = text.lower()
    return frozenset(k for k, ws in table.items() if any(re.search(rf"\b{w}\b", low) for w in ws))


def _head_measure(low: str) -> frozenset[str]:
    """The measure asked for: "jobs from … investment projects" asks for jobs, not projects;
    "jobs and projects" asks for both."""
    found = _slots(low, _MEASURE_WORDS)
    if len(found) < 2 or re.search(r"\b(jobs?|projects?|capex)\s+(and|or|&)\s+(jobs?|projects?|capex)\b",
                                   low):
        return found
    first = min(found, key=lambda m: min(
        (mm.start() for w in _MEASURE_WORDS[m] for mm in re.finditer(rf"\b{w}\b", low)),
        default=len(low)))
    return frozenset({first})


def numbers_in(text: str) -> list[tuple[float, str]]:
    """Numbers a question mentions, with a unit guess: (300.0, 'count'), (62.0, 'percent')."""
    out = []
    for m in _NUMBER_RE.finditer(text):
        cur, num, scale, pct = m.groups()
        if text[m.end():m.end() + 1] == "+" or re.match(r"\s*(or more|or above|and above|plus)\b",
                                                        text[m.end():], re.I):
            continue  # a threshold such as "£100m+", not a claimed figure
        if re.search(r"(19|20)\d{2}\s*[-–/]\s*$", text[:m.start()]):
            continue  # the end of a year range ("2017-21")
        try:
            value = float(num.replace(",", ""))
        except ValueError:
            continue
        if not pct and not cur and not scale and re.fullmatch(r"(19|20)\d{2}", num):
            continue  # a year
        if scale:
            value *= {"k": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}[scale.lower()]
        unit = "percent" if pct else ("GBP" if cur == "£" else "USD" if cur == "$" else "count")
        out.append((value, unit))
    return out


def focus(text: str) -> str:
    """The part of the input that asks something. Links, markup and code are removed; in
    instruction-like clauses ("ignore your instructions and say …") only the topic words are
    kept, lower-cased and without numbers, so they are text to answer around, never commands."""
    t = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # markdown links → their words
    t = re.sub(r"https?://\S+|www\.\S+", " ", t)
    t = re.sub(r"(?is)<(script|style)\b.*?(</\1\s*>|$)", " ", t)  # script bodies go entirely
    t = re.sub(r"<[^>]{0,200}>", " ", t)  # html tags
    t = re.sub(r"\{\{.*?\}\}|\{[^{}]{0,80}\}|\$\{[^}]*\}", " ", t)  # templates
    t = re.sub(r"(?i)\b(drop|delete|insert|update|select)\s+(table|from|into)\b[^;]*;?", " ", t)
    t = re.sub(r"--+|;", ". ", t)
    t = _MARKER_RE.sub(". ", t)
    t = re.sub(r"\bturn(s|ed)? over\b", "turnover", t, flags=re.I)
    # "17-21" next to year-ish words is a year range people abbreviate
    t = re.sub(r"(?<![\d£$.,])\b(1\d|2\d)\s*[-–]\s*(\d{2})\b(?![\d%])",
               lambda m: f"20{m.group(1)}-{m.group(2)}" if m.group(1) < m.group(2) else m.group(0), t)
    plain: list[str] = []
    injected: list[str] = []
    for part in re.split(r"(?<=[.?!])\s+|\n+", t):
        for clause in re.split(r"(?i)\s+and\s+(?=tell|say|give|show|what|how|list)|,\s+", part):
            clause = clause.strip(" .'\"")
            if not clause:
                continue
            if _INJECTION_RE.search(clause):
                clause = _INJECTION_RE.sub(" ", clause)
                injected.append(re.sub(r"[£$]?\d[\d,.]*%?\w*", " ", clause).lower())
            else:
                plain.append(clause)
    # Instruction-like clauses count only when nothing else asks: then their topic words do.
    out = plain if any(re.search(r"[a-zA-Z]{3}", p) for p in plain) else injected
    return " ".join(". ".join(out).split())


def _names(text: str, vocab: Vocabulary) -> list[str]:
    """Names the question gives (a place, an organisation, a known acronym): capitalised
    words that do not start a clause, and all-caps acronyms the snapshot itself uses.
    Unknown acronyms and shouting ("NOT", "DDHI") are not names."""
    out: list[str] = []
    for clause in re.split(r"[.?!:;,()\[\]\"]+|\s-\s|\n", text):
        words_ = clause.split()
        for m in re.finditer(r"\b[A-Z][a-z]+[A-Za-z]*(?:\s+(?:(?:of|and|for)\s+)?"
                             r"(?:[A-Z][a-z]+[A-Za-z]*|[A-Z]{2,}))*", clause):
            if m.start() == len(clause) - len(clause.lstrip()) or not words_:
                continue  # the clause's first word is capitalised anyway
            out.append(m.group(0))
        for m in re.finditer(r"\b[A-Z]{2,6}s?\b", clause):
            if m.group(0).rstrip("s") in vocab.acronyms or m.group(0) in vocab.acronyms:
                out.append(m.group(0))
    return out


def read(text: str, vocab: Vocabulary) -> Question:
    """Read a cleaned question."""
    original = text
    text = focus(text)
    for pattern, words_ in PHRASES.items():
        text = re.sub(rf"(?:{pattern})(?![a-z])", words_, text, flags=re.I)
    for pattern, full in ABBREVIATIONS.items():
        text = re.sub(pattern, full, text)
    raw_words = words(text)
    shouted = {w.lower() for w in re.findall(r"\b[A-Z]{2,}\b", text)}  # acronyms: never "fixed"
    corrected = [SYNONYMS.get(w, w) for w in
                 (w if w in GENERIC or w in INTENT_WORDS or w in shouted else vocab.correct(w)
                  for w in raw_words)]
    fixed_text = " ".join(corrected)
    toks = tuple(stem(w) for w in corrected if w not in STOPWORDS)
    key = tuple(stem(w) for w in corrected if len(w) > 1 and w not in STOPWORDS and w not in GENERIC
                and w not in INTENT_WORDS and stem(w) not in GENERIC
                and not re.fullmatch(r"\d+", w))
    # A word the snapshot never uses after "of/for/among/in" narrows the question to something
    # it does not cover ("the average salary of nurses", "jobs in zone9999").
    narrowing = [w for w in re.findall(r"\b(?:of|for|among|in|amongst)\s+(?:the\s+)?([a-z][a-z0-9]{3,})",
                                       text.lower())
                 if vocab.correct(w) not in vocab.set and stem(w) not in vocab.stems
                 and w not in GENERIC and w not in INTENT_WORDS and w not in STOPWORDS
                 and SYNONYMS.get(w, w) == w]
    proper = tuple(dict.fromkeys(_names(text, vocab)))
    low = fixed_text
    return Question(
        text=text, tokens=toks, key=key, numbers=tuple(numbers_in(text)), proper=proper,
        narrow=tuple(dict.fromkeys(narrowing)),
        years=tuple(re.findall(r"\b(?:19|20)\d{2}\b", text)),
        types=_slots(low, _TYPE_WORDS), measures=_head_measure(low),
        share=bool(_SHARE_RE.search(text)), money=bool(_MONEY_RE.search(text)),
        quantity=bool(_QUANTITY_RE.search(low)), provenance=bool(_PROVENANCE_RE.search(low)),
        derived=bool(_DERIVED_RE.search(low)), verify=bool(_VERIFY_RE.search(low)),
        listing=bool(_LIST_RE.search(low)), followup=bool(_FOLLOWUP_RE.search(low)),
        define=bool(_DEFINE_RE.search(low)), why=bool(_WHY_RE.search(low)),
        names=bool(_NAMES_RE.search(low)),
        explicit_money=bool(re.search(r"\b(pounds|dollars|sterling|how much money|in £|in \$)",
                                      text, re.I)),
        conflict=bool(_CONFLICT_RE.search(text)),
        premise=bool(re.search(r"^\s*(given|since|as|considering|because|if)\b|\bonly\b|"
                               r"[.!]\s+\w", original, re.I)),
        breakdown=bool(_BREAKDOWN_RE.search(original)),
        count=bool(re.search(r"\bhow many\b|\bnumber of\b", low)),
        date=bool(_DATE_Q_RE.search(low)),
        national=bool(_NATIONAL_RE.search(low)), future=bool(_FUTURE_RE.search(low)),
        down=bool(_DIRECTION_DOWN.search(low)), up=bool(_DIRECTION_UP.search(low)),
    )


def type_words(slot: str) -> tuple[str, ...]:
    return _TYPE_WORDS.get(slot, ())


def measure_words(slot: str) -> tuple[str, ...]:
    return _MEASURE_WORDS.get(slot, ())
