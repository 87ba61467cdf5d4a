"""The `chatbot` command: build, metrics, clear errors with exit status 1."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner

from chatbot.cli import cli


def _env(settings) -> dict[str, str]:
    return {
        "CHATBOT_CORPUS": os.pathsep.join(str(p) for p in settings.corpus_paths),
        "CHATBOT_METRICS": str(settings.metrics_path),
        "CHATBOT_INDEX_DIR": str(settings.index_dir),
    }


def test_metrics_filters_by_section(tmp_settings):
    res = CliRunner().invoke(cli, ["metrics", "--section", "talent"], env=_env(tmp_settings))
    assert res.exit_code == 0, res.output
    assert "£34,131" in res.output and "Wavteq" not in res.output
    assert tmp_settings.metrics_path.exists()


def test_metrics_json(tmp_settings):
    res = CliRunner().invoke(cli, ["metrics", "--format", "json"], env=_env(tmp_settings))
    assert res.exit_code == 0
    assert '"display":"$266.3m"' in res.output.replace(" ", "")


def test_missing_corpus_is_a_clear_error(tmp_settings, tmp_path):
    env = _env(tmp_settings) | {"CHATBOT_CORPUS": str(tmp_path / "missing.txt")}
    res = CliRunner().invoke(cli, ["metrics"], env=env)
    assert res.exit_code == 1
    assert res.output.startswith("Error: ") and "missing.txt" in res.output
    assert "Traceback" not in res.output


def test_unreadable_corpus_is_a_clear_error(tmp_settings, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    res = CliRunner().invoke(cli, ["build"], env=_env(tmp_settings) | {"CHATBOT_CORPUS": str(bad)})
    assert res.exit_code == 1
    assert "Error: " in res.output and "bad.txt:1" in res.output


def test_console_script_runs(tmp_settings):
    exe = os.path.join(os.path.dirname(sys.executable), "chatbot")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "build" in out.stdout and "metrics" in out.stdout
