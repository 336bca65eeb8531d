"""decide() and decide_mention(): first match wins, misses explain, windows are stable."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.policy import (
    Action,
    MentionAction,
    MentionFacts,
    decide,
    decide_mention,
    miss_words,
)

from .helpers import NOW, make_policy, member

RULES = """\
- name: bots
  when: {bot: true}
  then: ignore
- name: flagged
  when: {any: [{spammer: true}, {name_matches: "(?i)free ?nitro"}]}
  then: ignore
- name: quiet after a look
  when: {observed: true}
  then: {decline: {reply: decline_quiet}}
- name: brand-new accounts
  when: {account_age: {under: 7d}}
  then: {observe: 3d}
- name: tomorrow
  when: {messages: {at_least: 5}}
  then: {later: 24h}
- name: everyone else
  then: {later: {between: [12h, 48h], notify: late_notice}}
"""
MENTIONS = """\
mentions:
  - name: bots
    when: {bot: true}
    then: ignore
  - name: asks
    when: {all: [{text_matches: "(?i)follow (me )?back"}, {mentions_owner: true}]}
    then: {reply: decline_quiet}
  - name: replies
    when: {replies_to_owner: true}
    then: notify
  - name: everyone else
    then: thank
"""
POLICY = make_policy(RULES, MENTIONS)


def test_first_match_wins_and_misses_name_each_earlier_rule() -> None:
    d = decide(POLICY, member(name="ada", account_age="2d"), NOW)
    assert (d.rule, d.action, d.due) == (
        "brand-new accounts",
        Action.OBSERVE,
        NOW + timedelta(days=3),
    )
    assert [m.rule for m in d.misses] == ["bots", "flagged", "quiet after a look"]
    assert (d.misses[0].condition, d.misses[0].actual) == ("bot: true", "false")
    names = "nickname not set, global name not set, username 'ada'"
    assert d.misses[1].actual == f"false; {names}"
    assert d.policy_version == POLICY.version


def test_miss_in_plain_words() -> None:
    d = decide(POLICY, member(name="ada", account_age="30d", messages=5), NOW)
    words = [miss_words(m) for m in d.misses]
    assert words[0] == "rule 'bots' did not match: bot is false (needs true)"
    assert words[1] == (
        "rule 'flagged' did not match: none of these held: spammer is false (needs true);"
        " no name matches '(?i)free ?nitro': nickname not set, global name not set,"
        " username 'ada'"
    )
    assert (
        words[3] == "rule 'brand-new accounts' did not match: account_age is 30d (needs under 7d)"
    )
    assert "brand-new accounts" in d.explain() and "decision: later" in d.explain()
    assert "  - rule 'bots' did not match: bot is false (needs true)" in d.explain()


def test_decline_carries_its_reply_and_fixed_later_its_delay() -> None:
    d = decide(POLICY, member(observed=True), NOW)
    assert (d.action, d.reply, d.due) == (Action.DECLINE, "decline_quiet", None)
    d = decide(POLICY, member(messages=9), NOW)
    assert (d.rule, d.due, d.notify) == ("tomorrow", NOW + timedelta(hours=24), None)


@given(st.integers(min_value=0, max_value=2**63))
def test_random_window_is_stable_and_within_bounds(member_id: int) -> None:
    facts = replace(member(), id=member_id)
    first = decide(POLICY, facts, NOW)
    again = decide(POLICY, facts, NOW)
    assert first.due == again.due and first.notify == "late_notice"
    assert first.due is not None
    assert NOW + timedelta(hours=12) <= first.due <= NOW + timedelta(hours=48)


def test_random_window_spreads_members_and_depends_on_policy_version() -> None:
    dues = {decide(POLICY, replace(member(), id=i), NOW).due for i in range(50)}
    assert len(dues) > 40  # not everyone at the same moment
    other = replace(POLICY, version="000000000000")
    assert any(
        decide(other, replace(member(), id=i), NOW).due
        != decide(POLICY, replace(member(), id=i), NOW).due
        for i in range(5)
    )


def test_no_catch_all_means_review() -> None:
    policy = make_policy("- {name: bots, when: {bot: true}, then: ignore}")
    d = decide(policy, member(), NOW)
    assert (d.rule, d.action) == ("(no rule matched)", Action.REVIEW)
    assert len(d.misses) == 1


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        decide(POLICY, member(), NOW.replace(tzinfo=None))


def mention(text: str = "", **kw: object) -> MentionFacts:
    author = member(**kw.pop("author", {}))  # type: ignore[arg-type]
    return MentionFacts(author=author, text=text, **kw)  # type: ignore[arg-type]


def test_mentions() -> None:
    m = decide_mention(POLICY, mention("hi", author={"bot": True}), NOW)
    assert (m.rule, m.action) == ("bots", MentionAction.IGNORE)
    m = decide_mention(POLICY, mention("pls follow me back", mentions_owner=True), NOW)
    assert (m.rule, m.action, m.reply) == ("asks", MentionAction.REPLY, "decline_quiet")
    m = decide_mention(POLICY, mention("pls follow me back", mentions_bot=True), NOW)
    assert m.rule == "everyone else" and m.misses[1].condition == "mentions_owner: true"
    m = decide_mention(POLICY, mention("no", replies_to_owner=True), NOW)
    assert (m.rule, m.action) == ("replies", MentionAction.NOTIFY)
    m = decide_mention(POLICY, mention("great", mentions_owner=True), NOW)
    assert (m.rule, m.action, m.reply) == ("everyone else", MentionAction.REPLY, "thank")
    assert m.policy_version == POLICY.version


def test_no_mention_rules_means_notify() -> None:
    policy = make_policy("- {name: all, then: follow_back}")
    m = decide_mention(policy, mention("hello"), NOW)
    assert (m.rule, m.action, m.reply) == ("(no rule matched)", MentionAction.NOTIFY, None)
