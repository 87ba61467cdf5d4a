"""History: conversations → the SQLite file that holds feedback, so nothing is lost on a reload.

In: a conversation id (the app keeps it in the page address, ``?c=…``) and each finished turn
(the reader's message and the assistant's reply, as the app's message dicts).
Out: the turns back as message dicts (``ConversationStore.messages``) and the latest
conversations for the sidebar (``ConversationStore.recent``).

Tables (beside ``feedback`` in ``settings.feedback_db``; same WAL file, same locking)::

    conversations (id TEXT PRIMARY KEY, created_at, updated_at, title)
    turns (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id, created_at,
           question /* what the reader typed, bounded */, reply /* JSON */)

A reply is stored as JSON: ``{"id", "asked", "notice", "answer": Answer.to_dict()}``, or
``"error"``/``"refusal"`` instead of ``"answer"``. Answers are read back into ``Answer`` and
``Citation`` values; fields a later engine no longer knows are ignored, missing ones take their
defaults, so an old conversation still opens.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from chatbot.errors import FeedbackError
from chatbot.feedback import SqliteFile
from chatbot.inputs import clean_field
from chatbot.records import Answer, Citation

#: Conversations listed in the sidebar.
RECENT = 20
#: Characters of the first question kept as a conversation's title.
TITLE_CHARS = 60
#: Answer fields not worth keeping (retrieval diagnostics for the eval harness).
_DROPPED = ("retrieved", "dropped")
_ID = re.compile(r"[0-9a-f]{32}")

_CONVERSATIONS = """CREATE TABLE IF NOT EXISTS conversations (
    id          TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    title       TEXT NOT NULL
)"""
_TURNS = """CREATE TABLE IF NOT EXISTS turns (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    question         TEXT NOT NULL,
    reply            TEXT NOT NULL
)"""
_TURNS_INDEX = "CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation_id, id)"


class HistoryError(FeedbackError):
    """The conversation store (in the feedback file) cannot be written or read."""

    for_readers = ("This conversation could not be saved, so it will not survive a reload. The "
                   "answers are not affected.")


@dataclass(frozen=True)
class Summary:
    """One stored conversation, as the sidebar lists it."""

    id: str
    title: str
    updated_at: str
    turns: int

    @property
    def when(self) -> str:
        """``1 Dec 09:12`` (UTC), for the sidebar."""
        try:
            t = datetime.fromisoformat(self.updated_at)
        except ValueError:
            return ""
        return f"{t.day} {t:%b %H:%M}"


def new_id() -> str:
    """A fresh conversation id (32 hex digits)."""
    return uuid.uuid4().hex


def valid_id(value: object) -> bool:
    """Is ``value`` a conversation id this module made? (Anything else in ``?c=`` is ignored.)"""
    return isinstance(value, str) and bool(_ID.fullmatch(value))


def title_of(question: str) -> str:
    """The sidebar title of a conversation: its first question, on one line, shortened."""
    flat = " ".join(str(question).split())
    return flat if len(flat) <= TITLE_CHARS else flat[:TITLE_CHARS - 1].rstrip() + "…"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def reply_json(msg: dict) -> str:
    """An assistant message as stored (the ``Answer`` as a dict, diagnostics left out)."""
    out = {k: msg[k] for k in ("id", "asked", "notice", "error", "refusal") if msg.get(k)}
    answer = msg.get("answer")
    if answer is not None:
        d = answer.to_dict()
        for k in _DROPPED:
            d.pop(k, None)
        out["answer"] = d
    return json.dumps(out, ensure_ascii=False)


def _known(cls, data: dict) -> dict:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def answer_from_dict(data: dict) -> Answer:
    """An ``Answer`` from its stored dict (unknown keys ignored, citations rebuilt)."""
    values = _known(Answer, data)
    values["citations"] = [Citation(**_known(Citation, c)) for c in data.get("citations") or []]
    return Answer(**values)


def reply_message(text: str) -> dict:
    """A stored reply back as the app's assistant message."""
    data = json.loads(text)
    msg = {"role": "assistant", "id": data.get("id") or new_id(), "content": ""}
    for k in ("asked", "notice", "error", "refusal"):
        if data.get(k):
            msg[k] = data[k]
    if isinstance(data.get("answer"), dict):
        msg["answer"] = answer_from_dict(data["answer"])
        msg["content"] = msg["answer"].text
    elif not msg.get("refusal"):
        msg.setdefault("error", "This answer could not be read back.")
    return msg


def asked_questions(messages: list[dict], last: int) -> list[str]:
    """The questions the engine was asked in the conversation's last ``last`` answered turns, to
    replay into a fresh engine conversation after a reload (so follow-ups keep their context)."""
    out: list[str] = []
    question = ""
    for msg in messages:
        if msg.get("role") == "user":
            question = str(msg.get("content", ""))
        elif "answer" in msg:
            out.append(str(msg.get("asked") or question))
    return out[-last:] if last > 0 else []


class ConversationStore(SqliteFile):
    """Conversations in the feedback file: ``add_turn``, ``messages``, ``recent``."""

    WHAT = "the conversation store"
    ERROR = HistoryError

    def _create_tables(self, con: sqlite3.Connection) -> None:
        con.execute(_CONVERSATIONS)
        con.execute(_TURNS)
        con.execute(_TURNS_INDEX)

    def add_turn(self, conversation_id: str, question: str, reply: dict) -> None:
        """Store one finished turn (the conversation is created on its first turn)."""
        if not valid_id(conversation_id):
            raise HistoryError(f"not a conversation id: {conversation_id!r}")
        now = _now()
        question = clean_field(question)
        with self._write() as con:
            con.execute("INSERT INTO conversations (id, created_at, updated_at, title) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET updated_at = ?",
                        (conversation_id, now, now, title_of(question), now))
            con.execute("INSERT INTO turns (conversation_id, created_at, question, reply) "
                        "VALUES (?, ?, ?, ?)", (conversation_id, now, question, reply_json(reply)))

    def messages(self, conversation_id: str) -> list[dict]:
        """The conversation's turns as the app's messages, oldest first ([] when unknown)."""
        if not valid_id(conversation_id):
            return []
        with self._connect() as con:
            rows = con.execute("SELECT question, reply FROM turns WHERE conversation_id = ? "
                               "ORDER BY id", (conversation_id,)).fetchall()
        out: list[dict] = []
        for question, reply in rows:
            try:
                msg = reply_message(reply)
            except (ValueError, TypeError) as exc:  # a damaged row must not hide the others
                msg = {"role": "assistant", "id": new_id(), "content": "",
                       "error": f"This answer could not be read back ({type(exc).__name__})."}
            out.append({"role": "user", "content": question, "id": new_id()})
            out.append(msg)
        return out

    def recent(self, limit: int = RECENT) -> list[Summary]:
        """The latest conversations, most recently used first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT c.id, c.title, c.updated_at, COUNT(t.id) FROM conversations c "
                "LEFT JOIN turns t ON t.conversation_id = c.id GROUP BY c.id "
                "ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ?", (int(limit),)).fetchall()
        return [Summary(*row) for row in rows]
