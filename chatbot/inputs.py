"""Inputs: every bound on what users and operators hand the package, in one place.

In: anything a caller passes as a question, a feedback comment or field, a search depth, or a
corpus path. Out: bounded, clean text (with the notices a reader should see) or a clear error.

Each cleaner cuts to its limit *first*, so the work done is bounded whatever the size of the
input (a 60 MB string costs the same as a 2,000-character one), and only then removes what
must not reach the engine: invisible format characters (zero-width spaces and joiners, soft
hyphens, byte-order marks, bidirectional overrides) are dropped so they cannot split a word,
control characters become spaces, lone surrogates are dropped, and the text is NFKC-normalised
(full-width letters, ligatures) with its whitespace collapsed.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path

from chatbot.errors import ConfigError, CorpusError

#: Longest question the engine reads; longer input is cut here with a notice.
MAX_QUESTION_CHARS = 2000
#: What the app's chat box lets a reader type; the engine reads the first MAX_QUESTION_CHARS.
MAX_TYPED_CHARS = 4000
#: Longest text typed into the metrics explorer's search box.
MAX_FILTER_CHARS = 200
#: Longest feedback comment stored; longer comments are cut with a notice.
MAX_COMMENT_CHARS = 2000
#: Longest question, answer or citation list kept in one feedback record.
MAX_RECORD_CHARS = 20_000
#: Most chunks a search may return (``chatbot search -k``, ``Settings.top_k``).
MAX_SEARCH_K = 50
#: Largest corpus file read; snapshots are about 10 kB, a scaled corpus a few MB.
MAX_CORPUS_BYTES = 50_000_000
#: UTF-8 needs at most this many bytes for one character: bytes beyond it are never decoded.
_UTF8_MAX = 4


def _bounded_text(raw: object, limit: int) -> str:
    """``raw`` as text, at most ``limit + 1`` characters (one more tells that it was cut)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw[:limit + 1]
    if isinstance(raw, bytes | bytearray | memoryview):
        head = bytes(raw[:(limit + 1) * _UTF8_MAX])
        return head.decode("utf-8", "replace")[:limit + 1]
    try:
        return str(raw)[:limit + 1]
    except (ValueError, TypeError):  # e.g. an int too long to print
        return ""


def _visible(text: str, keep_lines: bool = False) -> str:
    """Drop invisible format characters and lone surrogates; control characters become spaces
    (line breaks stay when ``keep_lines``)."""
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cf", "Cs"):
            continue  # "sal\u200bary" is "salary", not "sal ary"
        if cat == "Cc":
            ch = "\n" if keep_lines and ch in "\n\r" else " "
        out.append(ch)
    return "".join(out)


def _clean(raw: object, limit: int, keep_lines: bool = False) -> tuple[str, bool]:
    """Cut, strip, normalise; returns the text (whitespace not yet collapsed) and whether it
    was cut."""
    text = _bounded_text(raw, limit)
    cut = len(text) > limit
    text = unicodedata.normalize("NFKC", _visible(text[:limit], keep_lines))
    if len(text) > limit:  # NFKC can grow text (one ligature becomes up to 18 characters)
        text, cut = text[:limit], True
    return text, cut


def clean_question(raw: object, limit: int = MAX_QUESTION_CHARS) -> tuple[str, list[str]]:
    """A question as the engine may read it, and the notices the reader should see.

    Any object is accepted (``None`` is empty, bytes are decoded as UTF-8); the result has at
    most ``limit`` characters, no control, format or surrogate characters, NFKC-normalised
    letters and single spaces.
    """
    text, cut = _clean(raw, limit)
    notices = [f"Your question was cut at {limit:,} characters; only the first {limit:,} were "
               "read."] if cut else []
    return " ".join(text.split()), notices


def clean_comment(raw: object, limit: int = MAX_COMMENT_CHARS) -> tuple[str, list[str]]:
    """A feedback comment as stored: bounded like a question, line breaks kept."""
    text, cut = _clean(raw, limit, keep_lines=True)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(line for line in lines if line)
    notices = [f"Your comment was cut at {limit:,} characters."] if cut else []
    return text, notices


def clean_field(raw: object, limit: int = MAX_RECORD_CHARS) -> str:
    """Stored text (an answer, a citation list, a session id): bounded, no lone surrogates,
    otherwise kept as it was (so a stored answer still matches what the reader saw)."""
    text = _bounded_text(raw, limit)[:limit]
    return text.encode("utf-8", "replace").decode("utf-8")


def search_depth(k: object) -> int:
    """A search depth between 1 and ``MAX_SEARCH_K``; anything else is a ``ConfigError``."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_SEARCH_K:
        raise ConfigError(f"the number of results must be a whole number from 1 to {MAX_SEARCH_K}, "
                          f"not {k!r}")
    return k


def read_corpus_bytes(path: Path, max_bytes: int = MAX_CORPUS_BYTES) -> bytes:
    """The bytes of a corpus file, refusing what would hang or exhaust memory.

    A FIFO, a device such as ``/dev/zero`` or a folder is a ``CorpusError`` before anything is
    opened (opening a FIFO waits for a writer forever); so is a file over ``max_bytes``.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise CorpusError(f"{path}: corpus file not found (restore it from git or set "
                          "CHATBOT_CORPUS)") from exc
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read corpus file ({exc.strerror})") from exc
    if not stat.S_ISREG(info.st_mode):
        kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a pipe (FIFO)"
                if stat.S_ISFIFO(info.st_mode) else "a device or socket")
        raise CorpusError(f"{path}: corpus path is {kind}, not a text file; set CHATBOT_CORPUS to "
                          "snapshot text files")
    if info.st_size > max_bytes:
        raise CorpusError(f"{path}: corpus file is {info.st_size:,} bytes, more than the "
                          f"{max_bytes:,} a snapshot may have")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read corpus file ({exc.strerror})") from exc
    if len(data) > max_bytes:  # grew while we read it
        raise CorpusError(f"{path}: corpus file is more than {max_bytes:,} bytes")
    return data
