"""bot/standin speaks JSON and never imports discord.py: it tests discord.py, not agrees with it."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

STANDIN = pathlib.Path(__file__).resolve().parents[2] / "bot" / "standin"


def test_no_module_in_bot_standin_imports_discord() -> None:
    offenders = []
    for path in sorted(STANDIN.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "discord"]
    assert offenders == []


def test_importing_the_standin_does_not_load_discord() -> None:
    code = "import sys, bot.standin, bot.standin.cli; print('discord' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
