"""The `followback` command line: dispatch and argparse errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

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
        [],  # a subcommand is required
        ["policy"],  # ... and a policy subcommand
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
