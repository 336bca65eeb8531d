"""Mention rules: channels, the author's facts, unknown text, `replying:` settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.policy import (
    MentionAction,
    PolicyError,
    decide_mention,
    load_policy_text,
    match_words,
    mention_from_spec,
    miss_words,
)
from bot.policy.mentions import NoReply, no_reply_reason, reads_text, text_rules

from .helpers import HEADER, NOW

RULES = "rules:\n  - {name: all, then: review}\n"


def policy_with(mentions: str, extra: str = "") -> Any:
    return load_policy_text(HEADER + RULES + "mentions:\n" + mentions + extra, "test.yaml")


def mention(**spec: Any) -> Any:
    spec.setdefault("author", {"name": "fan"})
    spec.setdefault("text", "hi")
    return mention_from_spec(spec, NOW)


def test_channel_by_name_id_list_and_thread_parent() -> None:
    policy = policy_with(
        "  - {name: help, when: {channel: ['#Help', 42]}, then: notify}\n"
        "  - {name: rest, then: ignore}\n"
    )
    decided = lambda **spec: decide_mention(policy, mention(**spec), NOW).rule  # noqa: E731
    assert decided(channel="help") == "help"  # '#' and case do not matter
    assert decided(channel="HELP") == "help"
    assert decided(channel=42) == "help"
    assert decided(channel="how-to", thread_of="help") == "help"  # a thread in #help
    assert decided(channel="general") == "rest"
    assert decided() == "rest"  # channel unknown: no match


def test_channel_miss_and_match_words() -> None:
    policy = policy_with(
        "  - {name: help, when: {channel: help}, then: notify}\n  - {name: rest, then: ignore}\n"
    )
    d = decide_mention(policy, mention(channel="general"), NOW)
    assert miss_words(d.misses[0]) == (
        "rule 'help' did not match: channel is #general (needs help)"
    )
    m = mention(channel="q", thread_of="help")
    assert (
        match_words(policy.mentions[0], m, NOW) == "channel is #q (thread in #help) (channel: help)"
    )


def test_channel_only_applies_to_mentions_and_needs_a_name() -> None:
    with pytest.raises(PolicyError) as err:
        load_policy_text(
            HEADER + "rules:\n  - {name: a, when: {channel: x}, then: review}\n"
            "mentions:\n  - {name: b, when: {channel: [true]}, then: notify}\n",
            "t.yaml",
        )
    text = str(err.value)
    assert "rules[0].when.channel: 'channel' only applies to mentions rules" in text
    assert "mentions[0].when.channel[0]: expected a channel name or id, not true" in text


def test_follower_facts_apply_to_the_author() -> None:
    policy = policy_with(
        "  - {name: friends, when: {all: [{followed: true}, {in_list: known}]}, then: notify}\n"
        "  - {name: rest, then: ignore}\n"
    )
    friend = mention(author={"name": "ada_l", "followed": True})
    stranger = mention(author={"name": "ada_l"})
    assert decide_mention(policy, friend, NOW).rule == "friends"
    assert decide_mention(policy, stranger, NOW).rule == "rest"


def test_unknown_text_never_matches_a_text_rule_nor_its_negation() -> None:
    policy = policy_with(
        "  - {name: asks, when: {text_matches: '(?i)follow back'}, then: {reply: thank}}\n"
        "  - {name: says something, when: {not: {text_matches: '^\\W*$'}}, then: notify}\n"
        "  - {name: spam, when: {any: [{text_matches: nitro}, {spammer: true}]}, then: ignore}\n"
        "  - {name: rest, then: {reply: thank}}\n"
    )
    unknown = mention(text=None)
    assert unknown.text_known is False and unknown.text == ""
    d = decide_mention(policy, unknown, NOW)
    assert d.rule == "rest"  # neither "asks" nor "says something" nor the text half of spam
    words = [miss_words(m) for m in d.misses]
    assert words[0] == (
        "rule 'asks' did not match: text unknown (no message-content intent),"
        " so text_matches: '(?i)follow back' cannot be tested"
    )
    assert "text unknown (no message-content intent)" in words[1]
    assert "holds (the rule needs it not to)" not in words[1]
    # An empty but known text is a fact: the negation fails because the text is blank.
    blank = decide_mention(policy, mention(text=""), NOW)
    assert blank.rule == "rest"
    assert "holds (the rule needs it not to)" in miss_words(blank.misses[1])
    assert decide_mention(policy, mention(text="hello"), NOW).rule == "says something"
    # A non-text branch of `any` still decides.
    spammer = mention(text=None, author={"name": "s", "spammer": True})
    assert decide_mention(policy, spammer, NOW).rule == "spam"


def test_message_content_flag_makes_any_text_unknown() -> None:
    facts = mention_from_spec({"text": "follow back?", "author": {}}, NOW, message_content=False)
    assert facts.text_known is False and facts.text == ""


def test_text_rules_names_rules_that_read_text_even_through_named_conditions() -> None:
    policy = policy_with(
        "  - {name: bots, when: {bot: true}, then: ignore}\n"
        "  - {name: spammy, when: {any: [{spammer: true}, {is: linky}]}, then: ignore}\n"
        "  - {name: asks, when: {not: {text_matches: x}}, then: notify}\n"
        "  - {name: rest, then: notify}\n",
        "conditions:\n  linky: {text_matches: 'https?://'}\n",
    )
    assert text_rules(policy) == ["spammy", "asks"]
    assert reads_text("linky", policy.conditions) and not reads_text({"bot": True}, {})


def test_replying_defaults_and_values() -> None:
    plain = policy_with("  - {name: rest, then: notify}\n")
    assert plain.replying.reply_after == timedelta(minutes=2)
    assert plain.replying.catch_up == timedelta(hours=24)
    assert plain.replying.never_reply is None
    policy = policy_with(
        "  - {name: rest, then: notify}\n",
        "replying: {reply_after: 0s, channel_budget: 0, never_reply: known,"
        " catch_up: {within: 6h, pages: 2}, reply_max_age: 1h}\n",
    )
    r = policy.replying
    assert r.reply_after == timedelta(0) and r.channel_budget == 0
    assert r.never_reply == "known" and r.catch_up == timedelta(hours=6)
    assert r.catch_up_pages == 2 and r.reply_max_age == timedelta(hours=1)
    short = policy_with("  - {name: rest, then: notify}\n", "replying: {catch_up: 3h}\n")
    assert short.replying.catch_up == timedelta(hours=3) and short.replying.catch_up_pages == 5


def test_replying_problems_are_all_reported() -> None:
    with pytest.raises(PolicyError) as err:
        policy_with(
            "  - {name: rest, then: notify}\n",
            "replying:\n  reply_after: soon\n  channel_budget: -1\n  never_reply: knwn\n"
            "  catch_up: {within: 1d, page: 3}\n  silence: true\n",
        )
    text = str(err.value)
    assert "replying.reply_after: bad duration 'soon'" in text
    assert "replying.channel_budget: expected a whole number from 0 to 1000" in text
    assert "replying.never_reply: unknown list 'knwn' (did you mean 'known'?)" in text
    assert "replying.catch_up.page: unknown key 'page' (did you mean 'pages'?)" in text
    assert "test.yaml:" in text and "replying.silence: unknown key" in text


def test_silent_reply_template() -> None:
    policy = load_policy_text(
        HEADER.replace(
            '  thank: ["Thanks {name}!", "Cheers {name}!"]',
            '  thank: {silent: true, variants: ["Thanks {name}!"]}',
        )
        + RULES,
        "t.yaml",
    )
    assert policy.replies["thank"].silent and not policy.replies["decline_quiet"].silent
    with pytest.raises(PolicyError, match=r"replies.thank.silent: expected true or false"):
        load_policy_text(
            HEADER.replace(
                '  thank: ["Thanks {name}!", "Cheers {name}!"]',
                '  thank: {silent: 1, variants: ["x"]}',
            )
            + RULES,
            "t.yaml",
        )


def test_no_reply_to_bots_or_the_never_reply_list() -> None:
    policy = policy_with("  - {name: rest, then: thank}\n", "replying: {never_reply: known}\n")
    assert decide_mention(policy, mention(), NOW).action is MentionAction.REPLY
    assert no_reply_reason(policy, mention()) is None
    assert no_reply_reason(policy, mention(author={"name": "b", "bot": True})) is NoReply.AUTHOR_BOT
    listed = mention(author={"name": "ADA_L"})  # usernames compare in any case
    assert no_reply_reason(policy, listed) is NoReply.NEVER_REPLY
    by_id = mention(author={"name": "z", "id": 189234567890123456})
    assert no_reply_reason(policy, by_id) is NoReply.NEVER_REPLY


def test_mention_spec_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match="channel: expected a channel name or id"):
        mention_from_spec({"channel": ["a"]}, NOW)
    with pytest.raises(ValueError, match="text: expected text, or null"):
        mention_from_spec({"text": 3}, NOW)
