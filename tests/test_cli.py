"""The `followback` command line: dispatch, help, argparse errors, a closed pipe."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import _build_parser, main

ROOT = Path(__file__).resolve().parent.parent


def test_policy_check_of_the_demo_policy_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(ROOT / "policies" / "demo.yaml")]) == 0


def test_policy_check_of_every_shipped_policy_passes() -> None:
    files = sorted(str(p) for p in (ROOT / "policies").glob("*.yaml"))
    assert files
    assert main(["policy", "check", *files]) == 0


def test_policy_check_of_a_broken_file_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nrules: [{name: x, then: follow_bak}]\n")
    assert main(["policy", "check", str(broken)]) != 0
    captured = capsys.readouterr()
    assert "broken.yaml" in captured.out + captured.err


def test_policy_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["policy", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "properties" in schema and "rules" in schema["properties"]


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],  # unknown subcommand
        ["policy", "lint", "x.yaml"],
        ["policy", "check"],  # at least one file
        ["policy", "explain", "x.yaml"],  # --member is required
        ["standin", "--port", "eighty"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage: followback" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "demo", "standin", "policy"):
        assert command in out


@pytest.mark.parametrize(
    ("argv", "commands"),
    [([], ("run", "demo", "standin", "policy")), (["policy"], ("check", "explain", "schema"))],
)
def test_a_command_alone_prints_its_help(
    argv: list[str], commands: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("usage: followback")
    assert all(command in captured.out for command in commands)
    assert "error" not in captured.out + captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"followback {version('followback')}"


def test_run_help_names_dotenv_and_the_demo_fallback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert ".env" in out and "DISCORD_TOKEN" in out and "demo" in out


def _walk(parser: argparse.ArgumentParser, path: str) -> list[str]:
    """Every option, argument and subcommand without help text, by its path."""
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions if choice.help}
            for name, child in action.choices.items():
                if name not in helped:
                    missing.append(f"{path} {name}")
                if not child.description:
                    missing.append(f"{path} {name} (description)")
                missing += _walk(child, f"{path} {name}")
        elif not action.help or action.help == argparse.SUPPRESS:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_option_and_command_has_help() -> None:
    assert _walk(_build_parser(), "followback") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["policy", "schema"],
        ["policy", "explain", str(ROOT / "policies" / "demo.yaml"), "--member", '{"name": "a"}'],
    ],
)
def test_a_reader_that_goes_away_gets_no_traceback(argv: list[str]) -> None:
    """`followback policy schema | head -3`: the pipe closes before the output is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first write
    err = process.stderr.read().decode()
    assert process.wait(30) != 0  # the output was cut short
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_run_without_a_token_plays_the_demo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("DISCORD_TOKEN", "FOLLOWBACK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    played: list[bool] = []

    def demo(database: str | None = None) -> int:
        played.append(True)
        return 0

    monkeypatch.setattr("bot.demo.run_demo", demo)
    assert main(["run"]) == 0
    assert played == [True]
    assert "no DISCORD_TOKEN" in capsys.readouterr().out
