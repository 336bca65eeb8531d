"""`policy check` warns about observe rules a member meets again on the second decision."""

from __future__ import annotations

import pytest

from bot.policy import load_policy, load_policy_text
from bot.policy.lint import observe_again

from .helpers import POLICIES, make_policy

DEMO = (POLICIES / "demo.yaml").read_text(encoding="utf-8")
OBSERVE = (
    "  - name: brand-new accounts\n    when: {account_age: {under: 7d}}\n    then: {observe: 6h}\n"
)


def test_observe_rule_above_the_observed_rules_is_warned_with_an_example() -> None:
    assert OBSERVE in DEMO
    moved = DEMO.replace(OBSERVE, "").replace("  - name: bots\n", OBSERVE + "  - name: bots\n", 1)
    policy = load_policy_text(moved, "demo.yaml")
    (warning,) = observe_again(policy)
    line = moved.splitlines().index("  - name: brand-new accounts") + 1
    assert (warning.line, warning.column, warning.path) == (line, 5, "rules[0]")
    text = str(warning)
    assert text.startswith(f"demo.yaml:{line}:5: warning: rules[0]: observe rule 'brand-new")
    assert "add `observed: false` to its `when`" in text
    assert "member 'newbie_nia'" in text and "with observed: true" in text


@pytest.mark.parametrize(
    "when",
    [
        "{account_age: {under: 7d}, observed: false}",
        "{all: [{observed: false}, {bot: false}]}",
        "{not: {observed: true}}",
        "{any: [{observed: false}, {all: [{observed: false}, {bot: true}]}]}",
        "fresh",
    ],
)
def test_observe_rule_that_requires_observed_false_is_fine(when: str) -> None:
    policy = make_policy(
        f"- {{name: look, when: {when}, then: {{observe: 1d}}}}\n- {{name: rest, then: review}}",
        "conditions:\n  fresh: {all: [{observed: false}, {account_age: {under: 7d}}]}\n",
    )
    assert observe_again(policy) == []


@pytest.mark.parametrize(
    "above",
    [
        "{name: seen, when: {observed: true}, then: review}",
        "{name: seen, when: {any: [{observed: true}, {bot: true}]}, then: review}",
        "{name: seen, when: {not: {observed: false}}, then: review}",
    ],
)
def test_a_rule_above_that_takes_every_observed_member_makes_it_fine(above: str) -> None:
    policy = make_policy(f"- {above}\n- {{name: look, then: {{observe: 1d}}}}")
    assert observe_again(policy) == []


@pytest.mark.parametrize(
    "above",
    [
        "{name: seen, when: {observed: true, messages: {at_least: 3}}, then: review}",
        "{name: seen, when: {any: [{observed: false}, {bot: true}]}, then: review}",
    ],
)
def test_a_rule_above_that_takes_only_some_observed_members_is_not_enough(above: str) -> None:
    policy = make_policy(f"- {above}\n- {{name: look, then: {{observe: 1d}}}}")
    (warning,) = observe_again(policy)
    assert warning.path == "rules[1]" and "(e.g." not in warning.message  # no examples here


def test_shipped_policies_have_no_observe_warnings() -> None:
    for path in sorted(POLICIES.glob("*.yaml")):
        assert observe_again(load_policy(path)) == [], path
