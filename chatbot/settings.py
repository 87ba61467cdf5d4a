"""Settings: one frozen object, built in one place, passed explicitly.

Every field is declared once in ``FIELDS`` with its environment variable and help text;
``Settings.from_env()`` is the only place that reads the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from chatbot.errors import ConfigError
from chatbot.inputs import MAX_QUESTION_CHARS, MAX_SEARCH_K

__all__ = ["CHROMA_TIMEOUT", "DEFAULT_CORPUS", "MAX_QUESTION_CHARS", "ROOT", "Settings", "describe"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "corpus" / "midlands-engine-ddhi-cluster-snapshot-2023.txt"
#: Seconds to wait for the vector index by default (see ``Settings.chroma_timeout``).
CHROMA_TIMEOUT = 3.0


def _help(text: str, env: str | None = None) -> dict:
    return {"help": text, "env": env}


@dataclass(frozen=True)
class Settings:
    """Where the data lives and how the engine behaves."""

    corpus_paths: tuple[Path, ...] = field(
        default=(DEFAULT_CORPUS,),
        metadata=_help("Snapshot text files (one document each).", "CHATBOT_CORPUS"),
    )
    metrics_path: Path = field(
        default=ROOT / "corpus" / "metrics.csv",
        metadata=_help("Where the structured metrics table is written.", "CHATBOT_METRICS"),
    )
    overrides_path: Path = field(
        default=ROOT / "corpus" / "metric_overrides.csv",
        metadata=_help("Curated labels and aliases for metrics (optional).", None),
    )
    index_dir: Path = field(
        default=ROOT / "indexes",
        metadata=_help("Folder of the persistent Chroma index and its manifest.", "CHATBOT_INDEX_DIR"),
    )
    chroma_url: str | None = field(
        default=None,
        metadata=_help("Use a Chroma server (http://HOST:PORT) instead of the embedded store.",
                       "CHATBOT_CHROMA_URL"),
    )
    chroma_timeout: float = field(
        default=CHROMA_TIMEOUT,
        metadata=_help("Seconds to wait for the vector index (a Chroma server's reply, or an index "
                       "file locked by another process); after that, answers come from the "
                       "metrics table and keyword search, with a notice.", "CHATBOT_CHROMA_TIMEOUT"),
    )
    collection: str = field(
        default="snapshot_chunks",
        metadata=_help("Chroma collection name.", "CHATBOT_COLLECTION"),
    )
    top_k: int = field(default=5, metadata=_help("Chunks returned by a search.", "CHATBOT_TOP_K"))
    max_question_chars: int = field(
        default=MAX_QUESTION_CHARS,
        metadata=_help("Questions longer than this are cut, with a notice.", None),
    )
    dense: bool = field(
        default=True,
        metadata=_help("Use dense (embedding) retrieval beside BM25.", "CHATBOT_DENSE"),
    )
    llm: str | None = field(
        default=None,
        metadata=_help("Optional chat model for phrasing: 'ollama:MODEL' or 'openai:MODEL'.",
                       "CHATBOT_LLM"),
    )
    llm_base_url: str | None = field(
        default=None,
        metadata=_help("Base URL of an OpenAI-compatible or Ollama server.", "CHATBOT_LLM_BASE_URL"),
    )
    feedback_db: Path = field(
        default=ROOT / "feedback.sqlite3",
        metadata=_help("SQLite file that stores answer feedback.", "CHATBOT_FEEDBACK_DB"),
    )

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.top_k > MAX_SEARCH_K:
            raise ConfigError(f"top_k must be between 1 and {MAX_SEARCH_K}, not {self.top_k}")
        if not 0 < self.chroma_timeout <= 600:
            raise ConfigError(f"CHATBOT_CHROMA_TIMEOUT must be a number of seconds from 0 to 600, "
                              f"not {self.chroma_timeout!r}")
        if self.max_question_chars < 10:
            raise ConfigError("max_question_chars must be at least 10")
        if self.chroma_url is not None and not self.chroma_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"CHATBOT_CHROMA_URL must look like http://HOST:PORT, not {self.chroma_url!r}"
            )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Build settings from defaults, then environment variables, then ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            name = f.metadata.get("env")
            if not name or name not in env or env[name] == "":
                continue
            raw = env[name]
            if f.name == "corpus_paths":
                values[f.name] = tuple(Path(p) for p in raw.split(os.pathsep) if p)
            elif f.name in ("metrics_path", "index_dir", "feedback_db"):
                values[f.name] = Path(raw)
            elif f.name == "top_k":
                try:
                    values[f.name] = int(raw)
                except ValueError as exc:
                    raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc
            elif f.name == "chroma_timeout":
                try:
                    values[f.name] = float(raw)
                except ValueError as exc:
                    raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from exc
            elif f.name == "dense":
                values[f.name] = raw.strip().lower() not in ("0", "false", "no", "off")
            else:
                values[f.name] = raw
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)


def describe() -> list[tuple[str, str, str]]:
    """(field, environment variable, help) for every setting, for docs and ``--help``."""
    return [(f.name, f.metadata.get("env") or "", f.metadata["help"]) for f in fields(Settings)]
