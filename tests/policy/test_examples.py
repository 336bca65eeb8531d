"""Every shipped policy: its examples pass, and they reach every rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.policy import load_policy, load_policy_text, run_examples
from bot.policy.examples import ExampleResult

from .helpers import POLICIES, make_policy

FILES = sorted(POLICIES.glob("*.yaml"))


def test_there_are_at_least_four_policies() -> None:
    names = {p.name for p in FILES}
    assert {
        "late-and-announced.yaml",
        "people-i-know.yaml",
        "observe-first.yaml",
        "busy-creator.yaml",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_examples_pass(path: Path) -> None:
    results = run_examples(load_policy(path))
    assert results
    failed = [r.describe() for r in results if r.failed]
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_rule_is_reached_by_an_example(path: Path) -> None:
    policy = load_policy(path)
    results = run_examples(policy)
    members = {r.rule for r in results if r.example.kind == "member"}
    mentions = {r.rule for r in results if r.example.kind == "mention"}
    assert [r.name for r in policy.rules if r.name not in members] == []
    assert [r.name for r in policy.mentions if r.name not in mentions] == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_policy_file_header(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./policy.schema.json"


def test_a_wrong_expectation_is_reported_with_what_was_got() -> None:
    policy = make_policy(
        "- {name: bots, when: {bot: true}, then: ignore}\n- {name: rest, then: review}",
        "examples:\n  - member: {name: robo, bot: true}\n"
        "    expect: {rule: rest, action: review}\n",
    )
    (result,) = run_examples(policy)
    assert isinstance(result, ExampleResult) and result.failed
    assert (result.rule, result.action) == ("bots", "ignore")
    assert (
        "expected rule 'rest', action review; got rule 'bots', action ignore" in result.describe()
    )
    assert "robo" in result.describe()


def test_the_readme_example_policy_loads_and_passes() -> None:
    readme = (POLICIES / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    policy = load_policy_text(block, "README.md")
    assert policy.owner.name == "Sam" and policy.follower_role == "Follower"
    assert all(r.ok for r in run_examples(policy))
