"""The ``chatbot`` command line: a thin edge over the engine.

``chatbot build | metrics | search | ask | chat | eval``. Errors become ``Error: …`` and exit
status 1 here and nowhere else (also a file the OS refuses, a full disk, a terminal that
cannot show a character); warnings the engine logs are printed once on stderr. Heavy modules
are imported inside commands so that ``chatbot ask`` starts fast.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from pathlib import Path

import click

from chatbot.errors import ChatbotError
from chatbot.inputs import MAX_SEARCH_K


class _Stderr(logging.Handler):
    """The engine's log records on the current stderr: info as is, warnings as ``Warning: …``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
            click.echo(msg if record.levelno < logging.WARNING else f"Warning: {msg}", err=True)
        except Exception:  # noqa: BLE001 - logging must never break a command
            self.handleError(record)


_HANDLER = _Stderr()


def _log_to_stderr(level: int) -> None:
    """Show the ``chatbot`` loggers' records at ``level`` and above on stderr (one handler)."""
    logger = logging.getLogger("chatbot")
    if _HANDLER not in logger.handlers:
        logger.addHandler(_HANDLER)
    _HANDLER.setLevel(level)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)


def _settings(ctx: click.Context):
    from chatbot.settings import Settings

    return ctx.obj if ctx.obj is not None else Settings.from_env()


class _Group(click.Group):
    """Turns ``ChatbotError`` into ``Error: …`` and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ChatbotError as exc:
            message = str(exc)
        except OSError as exc:  # a file the OS refuses: say which and why, not a traceback
            where = f" ({exc.filename})" if exc.filename else ""
            message = f"{exc.strerror or exc}{where}"
        except sqlite3.Error as exc:  # e.g. "database or disk is full"
            message = f"a database could not be used ({exc}); free some space and try again"
        except UnicodeError as exc:
            message = f"text could not be encoded or decoded ({exc.reason})"
        click.echo(f"Error: {message}", err=True)
        ctx.exit(1)


@click.group(cls=_Group)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Snapshot Q&A: ask the Midlands DDHI Cluster Snapshot 2023, with exact figures and sources."""
    from chatbot.settings import Settings

    _log_to_stderr(logging.WARNING)
    ctx.obj = Settings.from_env()


@cli.command()
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@click.option("--force", is_flag=True, help="Rebuild the index even when it is up to date.")
@click.option("--accept-corpus", is_flag=True, help="Accept a corpus that lost sections or figures "
              "since the last build (an intended cut, not a truncated file).")
@click.pass_context
def build(ctx: click.Context, quiet: bool, force: bool, accept_corpus: bool) -> None:
    """Parse the corpus, write corpus/metrics.csv and build the vector index."""
    from chatbot.engine import build as run_build

    def progress(msg: str) -> None:
        if not quiet:
            click.echo(msg, err=True)

    if not quiet:
        _log_to_stderr(logging.INFO)
    summary = run_build(_settings(ctx), progress=progress, force=force, accept_corpus=accept_corpus)
    click.echo(summary)


@cli.command()
@click.option("--section", help="Only metrics whose section contains this text.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def metrics(ctx: click.Context, section: str | None, fmt: str) -> None:
    """Print the metrics table (build it first if missing)."""
    from chatbot.engine import load_metrics

    df = load_metrics(_settings(ctx))
    if section:
        df = df[df["section"].str.contains(section, case=False, regex=False)]
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(df.to_json(orient="records", force_ascii=False, indent=1))
    else:
        cols = ["metric_id", "section", "label", "display", "unit", "period", "source"]
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.width", 200,
                               "display.max_colwidth", 60):
            click.echo(df[cols].to_string(index=False))
        click.echo(f"\n{len(df)} metrics", err=True)


@cli.command()
@click.argument("question")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, MAX_SEARCH_K),
              help="How many chunks to show.")
@click.pass_context
def search(ctx: click.Context, question: str, k: int) -> None:
    """Show the ranked chunks for QUESTION, with section, kind and score."""
    from chatbot.engine import Chatbot

    bot = Chatbot(_settings(ctx))
    for hit in bot.search(question, k=k):
        c = hit.chunk
        click.echo(f"{hit.rank:>2}. {hit.score:.4f}  [{c.section} · {c.kind}] {c.chunk_id}")
        click.echo(f"    {c.quote[:160]}")
    for note in bot.search_notices():
        click.echo(f"Note: {note}", err=True)


def _print_answer(ans, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(ans.to_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(ans.text)
    for c in ans.citations:
        src = c.source or "no data source named"
        click.echo(f"  [{c.number}] {c.section} · {src} · \"{c.quote}\"")
    for note in ans.notices:
        click.echo(f"Note: {note}")


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("question", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.pass_context
def ask(ctx: click.Context, question: tuple[str, ...], as_json: bool) -> None:
    """Ask one QUESTION and print the answer with its citations."""
    from chatbot.engine import Chatbot

    conv = Chatbot(_settings(ctx)).conversation()
    _print_answer(conv.ask(" ".join(question)), as_json)


@cli.command()
@click.pass_context
def chat(ctx: click.Context) -> None:
    """A terminal conversation (follow-ups understood). Empty line or Ctrl-D ends it."""
    from chatbot.engine import Chatbot

    conv = Chatbot(_settings(ctx)).conversation()
    click.echo("Ask about the Midlands DDHI Cluster Snapshot 2023. Empty line to quit.")
    while True:
        try:
            q = input("> ")
        except (EOFError, KeyboardInterrupt):
            break
        if not q.strip():
            break
        _print_answer(conv.ask(q), False)


@cli.command(name="eval")
@click.argument("file", required=False, default=None, type=click.Path(dir_okay=False))
@click.option("--report", "report_dir", default=None, type=click.Path(file_okay=False),
              help="Folder for report.json and report.md (default: eval/ for the registered "
                   "sets; none for a FILE).")
@click.option("--sealed", is_flag=True, help="Also score the sealed sets (aggregates only; the "
              "run is logged in eval/sealed/runs.jsonl).")
@click.option("--note", default="", help="A note logged with a sealed run.")
@click.option("--no-baseline", is_flag=True, help="Skip the plain LangChain baseline.")
@click.option("--no-edits", is_flag=True, help="Skip the meaning-preserving edit suite.")
@click.option("--min-strict", type=float, default=None, help="A FILE's gate: exit 1 below this "
              "strict accuracy (registered sets carry their own gates).")
@click.pass_context
def eval_cmd(ctx: click.Context, file: str | None, report_dir: str | None, sealed: bool,
             note: str, no_baseline: bool, no_edits: bool, min_strict: float | None) -> None:
    """Score the engine on the registered eval sets (eval/sets.json) or on FILE: strict and
    lenient accuracy, baselines, refusals, meaning-preserving edits."""
    from chatbot import evaluate

    options = evaluate.Options(
        file=Path(file) if file else None, report_dir=Path(report_dir) if report_dir else None,
        sealed=sealed, note=note, baselines=not no_baseline, edits=not no_edits,
        min_strict=min_strict)
    ctx.exit(evaluate.run(options, _settings(ctx), out=click.echo))


@cli.command(name="search-eval")
@click.argument("file", required=False, default=None)
@click.option("-k", "k", default=5, show_default=True, help="Cut-off for recall.")
@click.pass_context
def search_eval(ctx: click.Context, file: str | None, k: int) -> None:
    """Retrieval quality on labelled questions: dense vs BM25 vs hybrid (recall@k, MRR)."""
    from chatbot import evaluate
    from chatbot.settings import ROOT

    path = file or str(ROOT / "eval" / "retrieval.jsonl")
    ctx.exit(evaluate.retrieval_run(path, _settings(ctx), out=click.echo, k=k))


def main() -> None:
    """Console-script entry point."""
    for stream in (sys.stdout, sys.stderr):  # a latin-1 terminal shows "?" rather than crashing
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    cli(prog_name="chatbot")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
