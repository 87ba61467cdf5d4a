"""One error root for the whole package.

    ChatbotError
    ├── CorpusError        the snapshot text is missing, unreadable, malformed or truncated
    ├── IndexStoreError    the vector index cannot be built, loaded or reached
    │   ├── ServerUnavailableError   a Chroma server (CHATBOT_CHROMA_URL) does not answer in time
    │   ├── IndexBusyError           the index file is locked by another process (tried again)
    │   └── IndexCorruptError        the files are there but are not a readable index (rebuilt)
    ├── ConfigError        a setting has a bad value
    └── FeedbackError      the feedback store cannot be written

Errors become words only at the edges: the CLI prints ``Error: …`` and exits 1 (operators may
see paths and URLs there); the app logs the message and shows readers ``exc.for_readers``, a
sentence with no file path, errno text or server address. Messages say what to do next.
"""

from __future__ import annotations


class ChatbotError(Exception):
    """Root of every error this package raises on purpose."""

    #: What a reader of the app is told (the full message goes to the server log).
    for_readers = "Something went wrong on the server. Try again in a moment."


class CorpusError(ChatbotError):
    """The snapshot text is missing, unreadable, malformed or truncated."""

    for_readers = "The snapshot could not be loaded. The operator has the details in the server log."


class IndexStoreError(ChatbotError):
    """The vector index cannot be built, loaded or reached."""

    for_readers = ("The search index is not available right now; questions about figures still "
                   "work.")


class ServerUnavailableError(IndexStoreError):
    """The Chroma server named by ``chroma_url`` does not answer (in time)."""


class IndexBusyError(IndexStoreError):
    """The index file is locked by another process; opening is tried again later."""


class IndexCorruptError(IndexStoreError):
    """The index files are there but cannot be read as an index; a rebuild fixes it."""


class ConfigError(ChatbotError):
    """A setting has a value the package cannot use."""

    for_readers = "The app is not configured correctly. The operator has the details in the server log."


class FeedbackError(ChatbotError):
    """The feedback store cannot be written or read."""

    for_readers = ("Your feedback could not be saved right now. The answer above is not affected; "
                   "please try again later.")
