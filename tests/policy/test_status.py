"""The `status_command:` section: off by default, its texts checked at load."""

from __future__ import annotations

import pytest

from bot.policy import PolicyError, load_policy_text

BASE = "version: 1\nfollow_back: {role: Mutuals}\nrules: [{name: all, then: ignore}]\n"


def test_off_unless_enabled_with_default_words() -> None:
    status = load_policy_text(BASE).status_command
    assert not status.enabled
    assert "{name}" in status.followed and "{due}" in status.later


def test_enabled_with_the_owners_words() -> None:
    text = BASE + "status_command:\n  enabled: true\n  later: 'Around {due}, {name}.'\n"
    status = load_policy_text(text).status_command
    assert status.enabled and status.later == "Around {due}, {name}."


@pytest.mark.parametrize(
    ("section", "line", "words"),
    [
        ("status_command:\n  enabled: yes please\n", 5, "expected true or false"),
        ("status_command:\n  review: 'Hi {nick}'\n", 5, "unknown placeholder 'nick'"),
        ("status_command:\n  followd: hi\n", 5, "did you mean 'followed'"),
    ],
)
def test_mistakes_are_reported_with_their_line(section: str, line: int, words: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(BASE + section, "p.yaml")
    assert f"p.yaml:{line}:" in str(caught.value) and words in str(caught.value)
