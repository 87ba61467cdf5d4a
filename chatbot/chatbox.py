"""Chat box: the first screen, and what a reader's message becomes before the engine sees it.

In: the raw text from the chat box (any length) and the one input limit,
``settings.max_question_chars`` (the engine cuts there too). Out: a ``Typed`` value — the
question to ask, what the reader's bubble shows, and a notice or a refusal in plain words.

- An empty or whitespace-only message (invisible characters count as nothing) is not sent.
- A message within the limit is asked as it is.
- A longer one (a pasted page) is answered from its last question when it ends with one, and
  the reader is told so; otherwise nothing is asked and the reply says why and what to do.
  The chat box itself has no ``max_chars``: Streamlit's box ignores a paste longer than that
  without a word, which is how a question at the end of a long paste used to be lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.inputs import clean_question

#: Shown on the first screen: what the bot does, in two lines.
WELCOME = (
    "I answer questions about the **{title}** in its own words: a figure with its source, an "
    "overview, a comparison, what the report recommends, or a check of a claim.  \n"
    "Every figure links to the passage it comes from. FDI and DDI mean foreign and domestic "
    "direct investment."
)
#: (kind, question): one starter for each kind of question the engine answers.
STARTERS = (
    ("A figure", "What is the average salary in the cluster?"),
    ("An overview", "Give me an overview of the snapshot"),
    ("A comparison", "Compare foreign and domestic investment (FDI vs DDI)"),
    ("A recommendation", "What does the report recommend?"),
    ("A check of a claim", "Is it true that the Midlands has 20% of UK DDI projects?"),
)
#: Characters of a long paste shown in the reader's bubble.
SHOWN_CHARS = 280


@dataclass(frozen=True)
class Typed:
    """What one message from the chat box becomes."""

    shown: str  # the reader's bubble ("" when nothing is sent)
    question: str = ""  # asked of the engine ("" when nothing is asked)
    notice: str = ""  # told to the reader above the answer
    refusal: str = ""  # the reply when nothing is asked

    @property
    def sent(self) -> bool:
        """Does the message appear in the conversation at all?"""
        return bool(self.shown)


def placeholder(limit: int) -> str:
    """The chat box's placeholder, which states the limit."""
    return f"Ask about the snapshot (up to {limit:,} characters)"


def shortened(text: str, keep: int = SHOWN_CHARS) -> str:
    """A long message as its bubble shows it: the start, then how long it was."""
    if len(text) <= keep:
        return text
    return f"{text[:keep].rstrip()} … ({len(text):,} characters)"


def last_question(text: str, limit: int) -> str:
    """The question a long message ends with ("" when it does not end with one).

    Only the tail is read, so the cost does not grow with the paste. The question starts after
    the last sentence end or line break before its question mark.
    """
    tail = text[-(limit + 2):].rstrip().rstrip("\"'”’)")
    m = re.search(r"([^.!?\n]+\?)$", tail)
    if not m or len(tail) > limit and m.start() == 0:
        return ""
    question, _notices = clean_question(m.group(1), limit)
    return question if len(question) > 1 else ""


def read_typed(raw: object, limit: int) -> Typed:
    """What a message from the chat box becomes (see the module docstring)."""
    text = raw if isinstance(raw, str) else "" if raw is None else str(raw)
    stripped = text.strip()
    if not (clean_question(stripped[:limit], limit)[0] or clean_question(stripped[-limit:], limit)[0]):
        return Typed(shown="")
    if len(text) <= limit:
        return Typed(shown=text, question=text)
    shown = shortened(text)
    question = last_question(text, limit)
    if question:
        return Typed(shown=shown, question=question, notice=(
            f"Your message had {len(text):,} characters, more than the {limit:,} a question can "
            f"have, so I answered its last question: “{question}”"))
    return Typed(shown=shown, refusal=(
        f"Your message has {len(text):,} characters; a question can have up to {limit:,}, and "
        "this one does not end with a question. Nothing was sent: ask one question, or paste "
        "only the part you are asking about, ending with your question."))
