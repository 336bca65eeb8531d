"""Events in words: the lines the demo prints and `followback run` logs."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.policy import MemberFacts, decide
from bot.runlog import RunLog, decision_line, describe, start_lines
from bot.service.events import (
    ActionDone,
    ActionRefused,
    BotStarted,
    CatchUpDone,
    DecisionMade,
    MemberLeft,
    MemberPending,
    RoleChangedByHand,
    TimerFired,
    TimerOutcome,
)
from tests.service.helpers import GUILD, T0, write_policy


def made(
    tmp_path: Path, name: str, *, observed: bool = False, dm: str | None = None
) -> DecisionMade:
    policy = write_policy(tmp_path / "policy.yaml").current
    facts = MemberFacts(id=10, username=name, created_at=T0 - timedelta(days=400))
    decision = decide(policy, facts, T0)
    rule = next((r for r in policy.rules if r.name == decision.rule), None)
    return DecisionMade(
        T0, GUILD, 10, name, decision, observed, dm, rule, facts, policy.owner.timezone
    )


def test_a_decision_line_names_the_member_rule_due_time_dm_and_why(tmp_path: Path) -> None:
    line = decision_line(made(tmp_path, "later_lee", dm="late_notice"))
    # 12:00 UTC + 2h is 15:00 in Berlin (the owner's timezone, not the server's)
    assert line.startswith(
        "later_lee: later by rule 'late', due Sun 01 Mar, 15:00, DM 'late_notice'; why: "
    )
    assert "why: matched username 'later_lee' matches '^later_'" in line  # why it matched
    # and why the rule just before it did not
    assert "rule 'follow now' did not match" in line
    assert "\n" not in line  # one log line per decision


def test_the_catch_all_and_no_rule_are_explained_too(tmp_path: Path) -> None:
    line = decision_line(made(tmp_path, "someone", observed=False))
    assert "ignore by rule 'everyone else'" in line
    assert "why: matched no conditions" in line  # a catch-all takes everyone it reaches
    assert "rule 'decline silently' did not match" in line


def test_a_second_decision_says_it_followed_an_observe_window(tmp_path: Path) -> None:
    assert ", after observing;" in decision_line(made(tmp_path, "fb_ann", observed=True))


def test_actions_done_and_refused_in_words() -> None:
    assert describe(ActionDone(T0, GUILD, 10, "ann", 1, "add_role", None)) == (
        "gave the follow-back role to ann"
    )
    assert describe(ActionDone(T0, GUILD, 10, "ann", 2, "dm", "hi ann")) == (
        "sent a DM to ann: 'hi ann'"
    )
    refused = ActionRefused(T0, GUILD, 10, "ann", 2, "dm", 50007, "HTTP 403 (code 50007): closed")
    assert describe(refused) == "could not dm ann: HTTP 403 (code 50007): closed (recorded)"


def test_member_and_timer_events_in_words() -> None:
    assert describe(MemberPending(T0, GUILD, 10, "pat")) == (
        "pat joined; waiting for membership screening"
    )
    assert describe(MemberLeft(T0, GUILD, 10, "leo")) == "leo left the server"
    assert describe(RoleChangedByHand(T0, GUILD, 10, "bea", False)) == (
        "the owner unfollowed bea by hand"
    )
    fired = TimerFired(T0, GUILD, 10, "cleo", "later", TimerOutcome.FOLLOWED_LATE)
    assert describe(fired) == "late follow-back for cleo: followed back (late)"
    left = TimerFired(T0, GUILD, 10, "leo", "later", TimerOutcome.LEFT)
    assert describe(left) == "later for leo cancelled: left the server"
    # an observe window's end is told by the decision it causes: no second line
    again = TimerFired(T0, GUILD, 10, "nia", "observe", TimerOutcome.DECIDED_AGAIN)
    assert describe(again) is None
    caught = describe(CatchUpDone(T0, GUILD, 3, 1, 0, 2))
    assert caught is not None and "3 new" in caught and "1 left" in caught


def test_the_start_lines_name_the_policy_database_guilds_and_intents() -> None:
    started = BotStarted(
        Path("/srv/policy.yaml"), "abc123", Path("/srv/bot.sqlite3"), (), ("guilds", "members")
    )
    assert start_lines(started) == [
        "policy: /srv/policy.yaml (version abc123)",
        "database: /srv/bot.sqlite3",
        "guilds watched: every guild the bot is in",
        "intents: guilds, members",
    ]


def test_the_run_log_writes_one_info_line_per_event(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_log = RunLog()
    with caplog.at_level(logging.DEBUG, logger="bot.run"):
        run_log(made(tmp_path, "fb_ann"))
        run_log(ActionDone(T0, GUILD, 10, "fb_ann", 1, "add_role", None))
        run_log(TimerFired(T0, GUILD, 10, "nia", "observe", TimerOutcome.DECIDED_AGAIN))
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert info == [
        decision_line(made(tmp_path, "fb_ann")),
        "gave the follow-back role to fb_ann",
    ]


def test_owner_actions_in_words() -> None:
    from datetime import UTC, datetime

    from bot.runlog import describe
    from bot.service.events import OwnerActed

    at = datetime(2026, 12, 1, tzinfo=UTC)
    assert describe(OwnerActed(at, 7, "approve", "Ada (ada_l)")) == "user 7 approved Ada (ada_l)"
    assert describe(OwnerActed(at, 7, "pause")) == (
        "user 7 paused the bot: nothing is sent, timers wait"
    )
    assert describe(OwnerActed(at, 7, "list_add", None, "known: 42")) == (
        "user 7 added to a policy list (known: 42)"
    )


def test_mentions_in_words() -> None:
    from bot.service.events import MentionDecided, ReplySkipped

    waiting = MentionDecided(
        T0, GUILD, 10, "ann", 99, "#general", "reply", "everyone", "thank", "waiting", None,
        T0 + timedelta(minutes=2), "matched no conditions", "live",
    )  # fmt: skip
    assert describe(waiting) == (
        "mention by ann in #general: reply 'thank' (rule 'everyone'), in 2m unless the owner "
        "answers first; why: matched no conditions"
    )
    skipped = MentionDecided(
        T0, GUILD, 11, "bob", 98, "#general", "reply", "everyone", "thank", "skipped",
        "no reply to a webhook", None, "matched no conditions", "catch_up",
    )  # fmt: skip
    said = describe(skipped)
    assert said is not None and "(found at start)" in said and "; no reply to a webhook;" in said
    told = describe(ReplySkipped(T0, GUILD, 10, "ann", 99, "owner_answered", "the owner reacted"))
    assert told == "no reply to ann: the owner reacted"
