"""One error root for the whole package.

    ChatbotError
    ├── CorpusError        the snapshot text is missing, unreadable or malformed
    ├── IndexStoreError    the vector index cannot be built, loaded or reached
    │   └── ServerUnavailableError   a Chroma server (CHATBOT_CHROMA_URL) does not answer
    ├── ConfigError        a setting has a bad value
    └── FeedbackError      the feedback store cannot be written

Errors become words only at the edges: the CLI prints ``Error: …`` and exits 1, the app
shows ``st.error``. Messages say what to do next.
"""

from __future__ import annotations


class ChatbotError(Exception):
    """Root of every error this package raises on purpose."""


class CorpusError(ChatbotError):
    """The snapshot text is missing, unreadable or malformed."""


class IndexStoreError(ChatbotError):
    """The vector index cannot be built, loaded or reached."""


class ServerUnavailableError(IndexStoreError):
    """The Chroma server named by ``chroma_url`` does not answer."""


class ConfigError(ChatbotError):
    """A setting has a value the package cannot use."""


class FeedbackError(ChatbotError):
    """The feedback store cannot be written or read."""
