"""A failing name test says what it read: the field it tested, or that it is not set."""

from __future__ import annotations

import pytest

from bot.policy import decide, miss_words

from .helpers import NOW, make_policy, member


def miss_for(when: str, **facts: object) -> str:
    policy = make_policy(
        f"- {{name: r, when: {when}, then: decline}}\n- {{name: rest, then: review}}"
    )
    decision = decide(policy, member(**facts), NOW)
    assert decision.rule == "rest"
    return miss_words(decision.misses[0])


@pytest.mark.parametrize(
    ("when", "facts", "words"),
    [
        (
            "{global_name_matches: '^Ada'}",
            {"name": "bob", "global_name": None},
            "global name is not set (needs to match '^Ada')",
        ),
        (
            "{global_name_matches: '^Ada'}",
            {"name": "bob", "global_name": "Bobby"},
            "global name is 'Bobby' (needs to match '^Ada')",
        ),
        (
            "{username_matches: '^ada'}",
            {"name": "bob", "global_name": "Ada", "nick": "ada"},
            "username is 'bob' (needs to match '^ada')",
        ),
        (
            "{nick_matches: 'mod'}",
            {"name": "bob", "global_name": "Bob"},
            "nickname is not set (needs to match 'mod')",
        ),
        (
            "{name_matches: 'mod'}",
            {"name": "bob", "global_name": "Bob"},
            "no name matches 'mod': nickname not set, global name 'Bob', username 'bob'",
        ),
        (
            "{name_like: '*nitro*'}",
            {"name": "bob", "nick": "B"},
            "no name looks like '*nitro*': nickname 'B', global name not set, username 'bob'",
        ),
    ],
)
def test_name_miss_reports_the_field_it_tested(when: str, facts: dict, words: str) -> None:
    assert miss_for(when, **facts) == f"rule 'r' did not match: {words}"


def test_a_huge_name_is_cut_in_the_explanation() -> None:
    words = miss_for("{username_matches: '^ada'}", name="b" * 10_000)
    assert len(words) < 200 and "…'" in words
