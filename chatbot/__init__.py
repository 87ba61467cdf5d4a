"""Snapshot Q&A: question answering over the Midlands Engine Data Driven Healthcare Innovation
Cluster Snapshot 2023, with exact figures and citations.

    from chatbot import Chatbot
    conv = Chatbot().conversation()
    ans = conv.ask("What is the average salary?")
    ans.text, ans.answered, ans.citations

Imports are lazy so that ``import chatbot`` stays cheap.
"""

from __future__ import annotations

__all__ = ["Answer", "Chatbot", "ChatbotError", "Citation", "Settings"]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "Chatbot":
        from chatbot.engine import Chatbot

        return Chatbot
    if name in ("Answer", "Citation"):
        from chatbot import records

        return getattr(records, name)
    if name == "Settings":
        from chatbot.settings import Settings

        return Settings
    if name == "ChatbotError":
        from chatbot.errors import ChatbotError

        return ChatbotError
    raise AttributeError(f"module 'chatbot' has no attribute {name!r}")
