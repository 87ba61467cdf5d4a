"""Cards: an answer's citations → what its source cards say, and links from its [n] markers.

In: ``Citation`` values, the metrics-table row behind each (``Chatbot.figures``) and the chunk
each quote was taken from (``Corpus.chunks``). Out: safe Markdown for ``st.markdown`` and
``st.expander`` labels, and plain text for the copy box. Pure functions, no Streamlit.

- A card's title names what it holds — the metric's label and figure, or the first words of
  the passage — and its data source: ``[1] Average salary — £34,131 · ONS ASHE 2021``.
- Its body is the whole passage the quote came from (a figure panel, a list item, a paragraph
  cut to a few sentences around the quote) with the figure, or the quoted sentence, on a
  highlighter background (``:yellow-background[...]``); every character from the snapshot is
  escaped, nothing goes through ``unsafe_allow_html``.
- Each ``[n]`` in the answer becomes a link to ``#card-<message id>-<n>``, the anchor of the
  heading inside card n (the figure, or the section, in large type). Following a link to an
  element inside a closed ``<details>`` opens it (browsers do this for fragment links), so the
  click opens the card with no script at all: the app renders no HTML of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from chatbot.export import escape_markdown, source_name
from chatbot.records import Citation

#: Words of a passage used as a card title when no metric names it.
TITLE_WORDS = 9
#: Longest passage shown in a card; longer paragraphs are cut around the quote.
MAX_PASSAGE_CHARS = 700
#: The highlighter: Streamlit's Markdown background colour directive.
HIGHLIGHT = ":yellow-background[**{}**]"
_MARKER = re.compile(r"(?<![\\\w])\[(\d{1,3})\](?!\()")


def card_key(message_id: str, number: int) -> str:
    """The expander key (and link target) of citation ``number`` of one answer."""
    return f"card-{message_id}-{number}"


def link_markers(markdown: str, message_id: str, numbers: Iterable[int]) -> str:
    """``[1]`` → a link to card 1 of this answer (markers of unknown cards stay text)."""
    known = set(numbers)

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        return f"[\\[{n}\\]](#{card_key(message_id, n)})" if n in known else m.group(0)

    return _MARKER.sub(link, markdown)


def first_words(text: str, n: int = TITLE_WORDS) -> str:
    """The first ``n`` words of ``text`` (``…`` when there are more)."""
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def title_text(c: Citation, row: Mapping | None) -> str:
    """A card's title as plain text: what it holds, and its data source."""
    source = source_name(c.source or (row or {}).get("source"))
    if row and row.get("label"):
        figure = c.highlight or row.get("display") or ""
        what = f"{row['label']} — {figure}" if figure else row["label"]
    else:
        what = first_words(c.quote)
    return f"[{c.number}] {what} · {source}"


def card_heading(c: Citation, row: Mapping | None) -> str:
    """The heading inside a card (its anchor is the [n] link's target): the figure in large
    type, or the section for a citation of words; escaped."""
    return escape_markdown(c.highlight or (row or {}).get("display") or c.section or f"[{c.number}]")


def card_title(c: Citation, row: Mapping | None) -> str:
    """The expander label: ``title_text`` escaped."""
    return escape_markdown(title_text(c, row))


def passage(c: Citation, chunk_quote: str | None) -> tuple[str, int]:
    """The passage to show and where the citation's quote starts in it.

    The chunk's whole text when it holds the quote (cut to about ``MAX_PASSAGE_CHARS`` around
    it), else the quote alone.
    """
    quote = " ".join(c.quote.split())
    whole = " ".join((chunk_quote or "").split())
    at = whole.find(quote) if whole and quote else -1
    if at < 0 or len(whole) <= len(quote):
        return quote, 0
    if len(whole) <= MAX_PASSAGE_CHARS:
        return whole, at
    room = max(0, MAX_PASSAGE_CHARS - len(quote)) // 2
    start = max(0, at - room)
    end = min(len(whole), at + len(quote) + room)
    # widen to sentence ends so the cut does not fall mid-word
    s = whole.rfind(". ", 0, start)
    start = s + 2 if s >= 0 and at - s < MAX_PASSAGE_CHARS else start
    e = whole.find(". ", end)
    end = e + 1 if 0 <= e < at + len(quote) + MAX_PASSAGE_CHARS else end
    text = ("… " if start > 0 else "") + whole[start:end] + (" …" if end < len(whole) else "")
    return text, at - start + (2 if start > 0 else 0)


def _figure_span(text: str, figure: str | None, start: int) -> tuple[int, int] | None:
    """Span of ``figure`` in ``text`` at or after ``start``, not inside a longer number."""
    if not figure or not figure.strip():
        return None
    pattern = re.compile(rf"(?<![\w.,]){re.escape(figure.strip())}(?![\w]|[.,]\d)", re.IGNORECASE)
    m = pattern.search(text, start) or pattern.search(text)
    if m is None:
        loose = re.compile(re.escape(figure.strip()), re.IGNORECASE)
        m = loose.search(text, start) or loose.search(text)
    return m.span() if m else None


def quote_markdown(c: Citation, chunk_quote: str | None = None) -> str:
    """The passage in quotation marks, escaped, with the figure highlighted (or, for a citation
    of words, the quoted sentence when the passage holds more than it)."""
    text, at = passage(c, chunk_quote)
    span = _figure_span(text, c.highlight, at)
    if span is None and len(text) > len(" ".join(c.quote.split())) + 4:
        span = (at, at + len(" ".join(c.quote.split())))
    if span is None:
        return f"“{escape_markdown(text)}”"
    a, b = span
    marked = HIGHLIGHT.format(escape_markdown(text[a:b]))
    return f"“{escape_markdown(text[:a])}{marked}{escape_markdown(text[b:])}”"


def details_markdown(c: Citation, row: Mapping | None) -> str:
    """The line under the passage: section, data source, period, document."""
    parts = [f"Section: {c.section}", f"Data source: {source_name(c.source or (row or {}).get('source'))}"]
    if row and row.get("period"):
        parts.append(f"Period: {row['period']}")
    if c.document:
        parts.append(c.document)
    return escape_markdown(" · ".join(parts))


def copy_text(c: Citation, row: Mapping | None) -> str:
    """Plain text to paste elsewhere: ``figure — label (source): quote``."""
    source = source_name(c.source or (row or {}).get("source"))
    quote = " ".join(c.quote.split())
    figure = c.highlight or (row or {}).get("display") or ""
    label = (row or {}).get("label") or c.section
    head = f"{figure} — {label}" if figure else label
    return f"{head} ({source}): {quote}"
