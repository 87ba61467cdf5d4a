"""Feedback: readers' ratings of answers → an append-only SQLite file.

In: a ``FeedbackRecord`` (question, answer, citations, rating, comment, session id).
Out: one row per record in ``settings.feedback_db``, read back with ``FeedbackStore.all()``.

Many Streamlit sessions (threads) and several server processes may write at once, so the
store opens a short-lived connection per call, uses WAL journaling (readers never block the
writer), waits on a locked file instead of failing (``busy_timeout``) and commits each
record in its own ``BEGIN IMMEDIATE`` transaction: a writer killed mid-way loses at most the
record it was writing. Every failure surfaces as ``FeedbackError``. Every text field is bounded
and cleaned before it is stored (``inputs.clean_comment`` for the comment, ``clean_field`` for
the rest), so a 10 MB comment or a lone surrogate cannot fill the disk or fail the write.

The file handling (``SqliteFile``) is shared with ``history.ConversationStore``: conversations
live in the same file, in their own tables.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from chatbot.errors import FeedbackError
from chatbot.inputs import clean_comment, clean_field

#: How long a writer waits for another writer's lock before giving up (milliseconds).
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    answer_id   TEXT NOT NULL,
    question    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    citations   TEXT NOT NULL,
    rating      INTEGER,
    comment     TEXT NOT NULL
)
"""
_COLUMNS = ("created_at", "session_id", "answer_id", "question", "answer", "citations", "rating",
            "comment")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class FeedbackRecord:
    """One reader's verdict on one answer.

    ``rating`` follows ``st.feedback("thumbs")``: 1 thumbs up, 0 thumbs down, None when the
    reader only left a comment. ``answer_id`` groups the records of one answer (a rating and a
    later comment arrive as two records; the latest wins). ``citations`` is a JSON list.
    """

    question: str
    answer: str
    citations: str = "[]"
    rating: int | None = None
    comment: str = ""
    session_id: str = ""
    answer_id: str = ""
    created_at: str = field(default_factory=_now)

    @classmethod
    def for_answer(cls, question: str, answer, rating: int | None, comment: str = "",
                   session_id: str = "", answer_id: str = "") -> FeedbackRecord:
        """A record for a ``chatbot.records.Answer`` (citations stored as JSON)."""
        cites = json.dumps([c.to_dict() for c in answer.citations], ensure_ascii=False)
        return cls(question=question, answer=answer.text, citations=cites, rating=rating,
                   comment=comment, session_id=session_id, answer_id=answer_id)

    def citation_list(self) -> list[dict]:
        """The citations as dictionaries."""
        return json.loads(self.citations)


class SqliteFile:
    """One SQLite file shared by many sessions and processes: a short-lived connection per call,
    WAL journaling, a busy timeout, and the subclass's tables created once per object.

    ``FeedbackStore`` and ``history.ConversationStore`` both live in ``settings.feedback_db``.
    """

    #: Named in error messages ("the feedback store ...").
    WHAT = "the feedback store"
    ERROR: type[FeedbackError] = FeedbackError

    def __init__(self, path: Path | str, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._ready = False
        self._init_lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per record.
            con = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000,
                                  isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._error("open", exc) from exc
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            if not self._ready:
                self._initialise(con)
            # NORMAL is durable against a crashed or killed process in WAL mode; only a power
            # cut can lose the last commits, which is acceptable for feedback and history.
            con.execute("PRAGMA synchronous = NORMAL")
            yield con
        except sqlite3.Error as exc:
            raise self._error("use", exc) from exc
        finally:
            con.close()

    def _initialise(self, con: sqlite3.Connection) -> None:
        """Switch the file to WAL and create the tables (once per store object).

        Changing the journal mode can report "locked" at once, without waiting, while another
        process is setting up the same file, so it is retried until the busy timeout.
        """
        with self._init_lock:
            if self._ready:
                return
            deadline = time.monotonic() + self.busy_timeout_ms / 1000
            while True:
                try:
                    # WAL is a property of the file: every later connection inherits it.
                    con.execute("PRAGMA journal_mode = WAL")
                    self._create_tables(con)
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            self._ready = True

    def _create_tables(self, con: sqlite3.Connection) -> None:
        """``CREATE TABLE IF NOT EXISTS …`` for the subclass's tables (SQL text from module
        constants only, never from a value)."""
        raise NotImplementedError

    def _error(self, what: str, exc: Exception) -> FeedbackError:
        fix = ("free some space on its disk" if "full" in str(exc).lower() or
               getattr(exc, "errno", None) == 28 else "check that the folder is writable")
        return self.ERROR(f"could not {what} {self.WHAT} {self.path} ({exc}); {fix} or "
                          "point CHATBOT_FEEDBACK_DB at another file")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (waiting up to the busy timeout)."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise


class FeedbackStore(SqliteFile):
    """Append-only feedback file: ``FeedbackStore(path).add(record) / .all() / .count()``."""

    def _create_tables(self, con: sqlite3.Connection) -> None:
        con.execute(_SCHEMA)

    def add(self, record: FeedbackRecord) -> int:
        """Append one record in its own transaction; returns its row id."""
        if record.rating not in (None, 0, 1):
            raise FeedbackError(f"rating must be 0, 1 or empty, not {record.rating!r}")
        values = tuple(_stored(c, getattr(record, c)) for c in _COLUMNS)
        with self._write() as con:
            cur = con.execute(
                f"INSERT INTO feedback ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                values,
            )
        return int(cur.lastrowid)

    def all(self) -> list[FeedbackRecord]:
        """Every record, oldest first."""
        with self._connect() as con:
            rows = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM feedback ORDER BY id").fetchall()
        return [FeedbackRecord(**dict(zip(_COLUMNS, row, strict=True))) for row in rows]

    def count(self) -> int:
        """How many records the file holds."""
        with self._connect() as con:
            return int(con.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])


def _stored(column: str, value):
    """A record's value as stored: text bounded and free of lone surrogates."""
    if column == "rating":
        return value
    if column == "comment":
        return clean_comment(value)[0]
    return clean_field(value)
