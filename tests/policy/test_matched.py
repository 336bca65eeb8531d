"""A match is explained with the member's values, in the words misses use."""

from __future__ import annotations

import pytest

from bot.policy import Rule, decide, decide_mention, match_words, mention_from_spec

from .helpers import NOW, make_policy, member

NAMED = """
conditions:
  trusted: {any: [{in_list: known}, {has_role: VIP}]}
"""


def why(when: str, **facts: object) -> str:
    policy = make_policy(
        f"- {{name: r, when: {when}, then: follow_back}}\n- {{name: rest, then: review}}", NAMED
    )
    f = member(**facts)
    decision = decide(policy, f, NOW)
    assert decision.rule == "r"
    return match_words(policy.rules[0], f, NOW)


@pytest.mark.parametrize(
    ("when", "facts", "words"),
    [
        ("{account_age: {under: 7d}}", {"account_age": "2d"}, "account_age is 2d (under 7d)"),
        (
            "{in_server: {at_least: 1h, under: 2d}}",
            {"in_server": "3h"},
            "in_server is 3h (at least 1h, under 2d)",
        ),
        ("{bot: true}", {"bot": True}, "bot is true"),
        ("{observed: false}", {}, "observed is false"),
        ("{messages: {at_least: 3}}", {"messages": 5}, "messages is 5 (at least 3)"),
        ("{invites: 0}", {}, "invites is 0 (exactly 0)"),
        ("{churned: true}", {"churned": 2}, "churned is 2 (at least 1)"),
        (
            "{global_name_matches: '^Ada'}",
            {"name": "x", "global_name": "Ada L"},
            "global name 'Ada L' matches '^Ada'",
        ),
        (
            "{name_matches: '(?i)nitro'}",
            {"name": "bob", "nick": "NITRO king"},
            "nickname 'NITRO king' matches '(?i)nitro'",
        ),
        (
            "{name_like: ['*gift*', '*nitro*']}",
            {"name": "free_nitro"},
            "username 'free_nitro' looks like '*nitro*'",
        ),
        ("{has_role: VIP}", {"roles": ["VIP", "Fan"]}, "has role VIP"),
        ("{roles: {all: [A, B]}}", {"roles": ["A", "B", "C"]}, "has roles A, B"),
        ("{roles: {none: [Mod]}}", {"roles": ["Fan"]}, "has none of Mod (has Fan)"),
        ("{in_list: known}", {"name": "ada_l"}, "in list 'known' (by username)"),
        ("{in_list: known}", {"name": "x", "id": 189234567890123456}, "in list 'known' (by id)"),
        (
            "{surge: {joins: {at_least: 10}, within: 10m}}",
            {"recent_joins": 20},
            "20 joins within 10m (at least 10)",
        ),
        (
            "{bot: false, account_age: {under: 7d}}",
            {"account_age": "1d"},
            "bot is false and account_age is 1d (under 7d)",
        ),
        (
            "{any: [{bot: true}, {messages: {at_least: 1}}]}",
            {"messages": 1},
            "messages is 1 (at least 1)",
        ),
        ("{is: trusted}", {"roles": ["VIP"]}, "'trusted' holds: has role VIP"),
        ("trusted", {"name": "ada_l"}, "'trusted' holds: in list 'known' (by username)"),
        ("{not: {is: trusted}}", {}, "'trusted' does not hold"),
        ("{not: {bot: true}}", {}, "not (bot: true): bot is false (needs true)"),
    ],
)
def test_match_words(when: str, facts: dict, words: str) -> None:
    assert why(when, **facts) == words


def test_catch_all_and_hand_built_rules() -> None:
    policy = make_policy("- {name: rest, then: review}")
    assert match_words(policy.rules[0], member(), NOW).startswith("no conditions")
    assert match_words(Rule("x", policy.rules[0].then, {"bot": True}), member(), NOW) == "bot: true"


def test_a_rule_that_does_not_hold_says_so() -> None:
    policy = make_policy("- {name: r, when: {bot: true}, then: ignore}")
    assert match_words(policy.rules[0], member(), NOW) == "bot: true (does not hold now)"


def test_mention_rules_read_the_author_and_the_text() -> None:
    policy = make_policy(
        "- {name: rest, then: review}",
        "mentions:\n"
        "  - {name: m, when: {text_matches: '(?i)follow back', messages: {at_least: 2}},"
        " then: notify}\n",
    )
    mention = mention_from_spec(
        {"text": "pls Follow Back", "author": {"name": "fan", "messages": 4}}, NOW
    )
    assert decide_mention(policy, mention, NOW).rule == "m"
    assert match_words(policy.mentions[0], mention, NOW) == (
        "text 'pls Follow Back' matches '(?i)follow back' and messages is 4 (at least 2)"
    )


def test_decision_explain_carries_the_match() -> None:
    policy = make_policy("- {name: r, when: {bot: true}, then: ignore}")
    f = member(bot=True)
    text = decide(policy, f, NOW).explain(match_words(policy.rules[0], f, NOW))
    assert text.splitlines()[:2] == ["decision: ignore (rule 'r')", "matched: bot is true"]
