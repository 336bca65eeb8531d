"""Each fact a rule can test, matched and missed, with the Miss it leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.policy import Action, decide, load_policy_text, miss_words

from .helpers import HEADER, NOW, make_policy, member


def matches(when: str, **facts: object) -> bool:
    policy = make_policy(
        f"- name: r\n  when: {when}\n  then: follow_back\n- name: rest\n  then: review"
    )
    return decide(policy, member(**facts), NOW).rule == "r"


@pytest.mark.parametrize(
    ("when", "yes", "no"),
    [
        ("{bot: true}", {"bot": True}, {}),
        ("{spammer: true}", {"spammer": True}, {}),
        ("{default_avatar: false}", {}, {"default_avatar": True}),
        ("{followed: true}", {"followed": True}, {}),
        ("{observed: true}", {"observed": True}, {}),
        ("{declined_before: true}", {"declined_before": True}, {}),
        ("{account_age: {under: 7d}}", {"account_age": "6d"}, {"account_age": "7d"}),
        ("{account_age: {at_least: 7d}}", {"account_age": "7d"}, {"account_age": "1h"}),
        ("{in_server: {at_least: 1h}}", {"in_server": "2h"}, {"in_server": "59m"}),
        ("{messages: {at_least: 3}}", {"messages": 3}, {"messages": 2}),
        ("{messages: {at_least: 1, under: 5}}", {"messages": 4}, {"messages": 5}),
        ("{messages: 0}", {}, {"messages": 1}),
        ("{links: {over: 2}}", {"links": 3}, {"links": 2}),
        ("{invites: {equals: 1}}", {"invites": 1}, {"invites": 2}),
        ("{attachments: {at_most: 2}}", {"attachments": 2}, {"attachments": 3}),
        ("{everyone_pings: {at_least: 1}}", {"everyone_pings": 1}, {}),
        ("{owner_mentions: {at_least: 2}}", {"owner_mentions": 2}, {"owner_mentions": 1}),
        ("{times_rejoined: {at_least: 3}}", {"times_rejoined": 3}, {"times_rejoined": 2}),
        ("{churned: true}", {"churned": 1}, {}),
        ("{name_matches: '(?i)nitro'}", {"name": "x", "nick": "NITRO"}, {"name": "ada"}),
        ("{username_matches: '^bot'}", {"name": "bot9"}, {"name": "x", "nick": "bot9"}),
        ("{nick_matches: 'mod'}", {"nick": "a mod"}, {"name": "mod"}),
        ("{global_name_matches: 'Ada'}", {"global_name": "Ada L"}, {"name": "Ada"}),
        ("{name_like: '*nitro*'}", {"global_name": "Free NITRO!"}, {"name": "nitr0"}),
        ("{name_like: [a*, '*z']}", {"name": "quiz"}, {"name": "bob"}),
        ("{roles: {any: [VIP, '42']}}", {"roles": [42]}, {"roles": ["Fan"]}),
        ("{roles: {all: [A, B]}}", {"roles": ["A", "B", "C"]}, {"roles": ["A"]}),
        ("{roles: {none: [Muted]}}", {"roles": ["A"]}, {"roles": ["Muted"]}),
        ("{has_role: VIP}", {"roles": ["VIP"]}, {}),
        ("{in_list: known}", {"name": "ADA_L"}, {"name": "ada", "global_name": "ada_l"}),
        ("{in_list: known}", {"id": 189234567890123456}, {"id": 1}),
        (
            "{surge: {joins: {at_least: 3}, within: 10m}}",
            {"recent_joins": 3},
            {"recent_joins": ["1m", "2m", "11m"]},
        ),
        ("{not: {bot: true}}", {}, {"bot": True}),
        ("{any: [{bot: true}, {spammer: true}]}", {"spammer": True}, {}),
        ("{all: [{bot: true}, {spammer: true}]}", {"bot": True, "spammer": True}, {"bot": True}),
        ("{bot: true, spammer: true}", {"bot": True, "spammer": True}, {"spammer": True}),
    ],
)
def test_fact(when: str, yes: dict[str, object], no: dict[str, object]) -> None:
    assert matches(when, **yes)
    assert not matches(when, **no)


def test_unknown_account_age_never_matches_either_way() -> None:
    policy = make_policy(
        "- {name: young, when: {account_age: {under: 7d}}, then: ignore}\n"
        "- {name: old, when: {account_age: {at_least: 7d}}, then: ignore}"
    )
    facts = member(created_at="2024-01-01T00:00:00Z").__class__(id=1, username="x")
    decision = decide(policy, facts, NOW)
    assert decision.rule == "(no rule matched)" and decision.action is Action.REVIEW
    assert [m.actual for m in decision.misses] == ["unknown", "unknown"]


def test_surge_counts_only_the_window() -> None:
    policy = make_policy(
        "- {name: raid, when: {surge: {joins: {at_least: 2}, within: 10m}}, then: review}"
    )
    # Oldest first, as MemberFacts promises (the engine binary-searches it).
    joins = (NOW - timedelta(minutes=30), NOW - timedelta(minutes=1), NOW + timedelta(minutes=1))
    facts = member().__class__(id=1, username="x", recent_joins=joins)
    miss = decide(policy, facts, NOW).misses[0]
    assert miss.actual == "1 joins"


def test_named_conditions_are_reused() -> None:
    text = HEADER + (
        "conditions:\n  trusted: {any: [{in_list: known}, {has_role: VIP}]}\n"
        "rules:\n  - {name: trusted ones, when: {is: trusted}, then: follow_back}\n"
        "  - {name: bare name, when: trusted, then: follow_back}\n"
        "  - {name: rest, then: review}\n"
    )
    policy = load_policy_text(text)
    assert decide(policy, member(roles=["VIP"]), NOW).rule == "trusted ones"
    assert decide(policy, member(name="ada_l"), NOW).rule == "trusted ones"
    decision = decide(policy, member(), NOW)
    assert decision.rule == "rest"
    named = decision.misses[0]
    assert (named.condition, named.parts[0].condition) == (
        "is: trusted",
        "any of (in_list: known | has_role: VIP)",
    )
    assert miss_words(named).startswith(
        "rule 'trusted ones' did not match: 'trusted' does not hold: none of these held: "
    )
    assert miss_words(named).endswith("has no roles (needs one of VIP)")


def test_not_and_roles_in_plain_words() -> None:
    policy = make_policy(
        "- {name: not bots, when: {not: {bot: true}}, then: ignore}\n"
        "- {name: staff, when: {roles: {all: [Mod, Admin]}}, then: ignore}"
    )
    d = decide(policy, member(bot=True, roles=["Mod"]), NOW)
    assert [miss_words(m) for m in d.misses] == [
        "rule 'not bots' did not match: bot: true holds (the rule needs it not to)",
        "rule 'staff' did not match: has roles Mod (needs all of Mod, Admin)",
    ]


def test_surge_window_is_the_longest_within_in_the_policy() -> None:
    policy = make_policy(
        "- {name: raid, when: {surge: {joins: {at_least: 2}, within: 10m}}, then: review}\n"
        "- {name: slow raid, when: {any: [{surge: {joins: {at_least: 9}, within: 1h}}]},"
        " then: review}"
    )
    assert policy.surge_window == timedelta(hours=1)
    assert make_policy("- {name: all, then: ignore}").surge_window is None


def test_uses_roles_says_whether_any_rule_tests_roles() -> None:
    assert make_policy("- {name: vip, when: {has_role: VIP}, then: follow_back}").uses_roles
    assert make_policy(
        "- {name: any, when: {any: [{bot: true}, {roles: {any: [A]}}]}, then: ignore}"
    ).uses_roles
    assert not make_policy("- {name: all, when: {bot: true}, then: ignore}").uses_roles
