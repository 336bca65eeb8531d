"""The Docker image as far as it can be checked without Docker: what goes in, what stays out,
and that the documented mounts are where the bot's default settings look."""

from __future__ import annotations

import re
from pathlib import Path

from bot.bundled import LOCAL_DEFAULT_POLICY
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_image_gets_everything_the_build_needs() -> None:
    copied = {
        word for line in re.findall(r"^COPY (.+)$", DOCKERFILE, re.M) for word in line.split()
    }
    for needed in ("pyproject.toml", "setup.py", "README.md", "bot", "policies"):
        assert needed in copied


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".git", ".venv", "data", "**/__pycache__"):
        assert entry in ignored


def test_the_documented_mounts_are_where_the_defaults_look() -> None:
    (workdir,) = re.findall(r"^WORKDIR (\S+)$", DOCKERFILE, re.M)
    readme = (ROOT / "README.md").read_text()
    defaults = Settings.model_fields
    database = Path(workdir) / str(defaults["database"].default)
    policy_folder = Path(workdir) / LOCAL_DEFAULT_POLICY.parent
    assert f':{policy_folder}:ro"' in readme
    assert f"followback-data:{database.parent} " in readme
    assert f'VOLUME ["{database.parent}"]' in DOCKERFILE
