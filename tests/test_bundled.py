"""The shipped policies: one copy in policies/, installed as the package bot.bundled_policies."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from bot.bundled import DEFAULT_POLICY, DEMO_POLICY, default_policy_path, policy_path
from bot.policy import load_policy

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", [DEFAULT_POLICY, DEMO_POLICY])
def test_a_shipped_policy_is_a_real_file_that_loads(name: str) -> None:
    path = policy_path(name)
    assert path.is_file()
    assert path.read_bytes() == (ROOT / "policies" / name).read_bytes()
    load_policy(path)


def test_the_installed_package_carries_the_policies() -> None:
    names = {entry.name for entry in resources.files("bot.bundled_policies").iterdir()}
    assert {DEFAULT_POLICY, DEMO_POLICY, "policy.schema.json"} <= names


def test_outside_a_checkout_the_default_policy_is_the_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_policy_path() == policy_path(DEFAULT_POLICY)
    monkeypatch.chdir(ROOT)
    assert default_policy_path() == Path("policies") / DEFAULT_POLICY
