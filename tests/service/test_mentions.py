"""The mention service with a real store and a hand-moved clock (no Discord)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.policy import MemberFacts, load_policy_text
from bot.service._mention_rules import mention_facts, pick_variant, verdict_for
from bot.service.clock import ScaledClock, SystemClock
from bot.service.mentions import MentionService, SeenMention, clock_time_for, unreadable_text_rules
from bot.service.planning import Hooks
from bot.store import MentionInput, MentionStatus, OutboxKind, Store, UserInfo
from tests.service.helpers import GUILD, T0, write_policy

CHANNEL = 500
POLICY = """\
version: 1
follow_back: {role: Mutuals}
lists: {hush: [hushed_hal]}
replies:
  thank: ["Thanks {name}!", "Cheers {name}!", "Much obliged, {name}!"]
  polite: {silent: true, variants: ["I follow back in my own time, {name}."]}
rules: [{name: everyone, then: ignore}]
mentions:
  - {name: muted, when: {username_matches: "^mute_"}, then: ignore}
  - {name: asks, when: {text_matches: "(?i)follow me back"}, then: {reply: polite}}
  - {name: replies, when: {replies_to_owner: true}, then: notify}
  - {name: everyone, then: {reply: thank}}
replying: {reply_after: 2m, channel_budget: 2, never_reply: hush, reply_max_age: 6h}
limits: {reply_cooldown: 1d}
"""


class ManualClock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment

    def real_time_for(self, moment: datetime) -> datetime:
        return moment


def item(message_id: int, author: int = 7, name: str = "fan", **kw: object) -> MentionInput:
    fields: dict[str, object] = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "message_id": message_id,
        "author_id": author,
        "author_name": name,
        "posted_at": T0,
        "text": "hi",
        "mentions_owner": True,
    }
    return MentionInput(**(fields | kw))  # type: ignore[arg-type]


def seen(message_id: int, author: int = 7, name: str = "fan", **kw: object) -> SeenMention:
    return SeenMention(item(message_id, author, name, **kw), UserInfo(author, name))


def facts(mention: MentionInput, **member: object) -> object:
    author = MemberFacts(id=mention.author_id, username=mention.author_name, **member)  # type: ignore[arg-type]
    return mention_facts(mention, author)


# --- pure rules --------------------------------------------------------------------------


def test_a_variant_never_repeats_what_that_person_got_last() -> None:
    assert pick_variant(4, 3, last=None) == 1
    assert pick_variant(4, 3, last=1) == 2
    assert pick_variant(5, 1, last=0) == 0  # one wording: nothing else to give


@pytest.mark.parametrize(
    ("mention", "member", "status", "words"),
    [
        (item(1), {}, MentionStatus.WAITING, None),
        (item(1, author_kind="webhook"), {}, MentionStatus.SKIPPED, "webhook"),
        (item(1, author_kind="system"), {}, MentionStatus.SKIPPED, "system message"),
        (item(1), {"bot": True}, MentionStatus.SKIPPED, "bot"),
        (item(1, name="hushed_hal"), {}, MentionStatus.SKIPPED, "never-reply"),
        (item(1, posted_at=T0 - timedelta(hours=7)), {}, MentionStatus.TOO_OLD, "too old"),
        (item(1, replies_to_owner=True), {}, MentionStatus.LISTED, "digest"),
        (item(1, name="mute_moe"), {}, MentionStatus.IGNORED, None),
    ],
)
def test_where_a_mention_stands_after_its_decision(
    mention: MentionInput, member: dict[str, object], status: MentionStatus, words: str | None
) -> None:
    policy = load_policy_text(POLICY)
    verdict, why = verdict_for(policy, mention, facts(mention, **member), T0)  # type: ignore[arg-type]
    assert verdict.status is status
    assert words is None or words in (verdict.outcome or "")
    assert why.startswith("matched") and verdict.explanation.startswith("matched")
    if status is MentionStatus.WAITING:
        assert verdict.wait_until == T0 + timedelta(minutes=2)


def test_unknown_text_is_said_so_and_text_rules_are_named_at_start() -> None:
    policy = load_policy_text(POLICY)
    mention = item(1, text=None)
    verdict, _ = verdict_for(policy, mention, facts(mention), T0)  # type: ignore[arg-type]
    assert "text unknown" in verdict.explanation
    assert verdict.rule == "everyone"  # the text rule cannot match what is not known
    said = unreadable_text_rules(policy, message_content=False)
    assert said is not None and "'asks'" in said
    assert unreadable_text_rules(policy, message_content=True) is None


def test_a_message_time_on_a_fast_clock() -> None:
    real = SystemClock().now()
    assert clock_time_for(SystemClock(), real) == real
    fast = ScaledClock(T0, speed=3600.0)
    now = fast.now()
    earlier = clock_time_for(fast, fast.real_time_for(now) - timedelta(seconds=2))
    assert abs(earlier - (now - timedelta(hours=2))) < timedelta(minutes=1)


# --- the service and the store -----------------------------------------------------------


class Harness:
    def __init__(self, store: Store, tmp: Path) -> None:
        self.store = store
        self.clock = ManualClock(T0)
        self.policies = write_policy(tmp / "policy.yaml", POLICY)
        self.scheduled: list[datetime] = []
        self.service = MentionService(
            store,
            self.policies,
            self.clock,
            hooks=Hooks(schedule_timer=self.scheduled.append),
        )

    async def handle(self, *mentions: SeenMention) -> None:
        for m in mentions:
            self.service.mention(m)
        await self.service.drain()

    async def wait_over(self) -> None:
        """Fire every mention timer now due, as the timer dispatcher would."""
        for timer in await self.store.due_timers(self.clock.now()):
            await self.service._wait_over(timer)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    store = await Store.open(":memory:")
    harness = Harness(store, tmp_path)
    harness.service.start()
    try:
        yield harness
    finally:
        await harness.service.stop()
        await store.close()


async def test_a_mention_seen_live_and_again_at_start_is_one_mention(h: Harness) -> None:
    await h.handle(seen(1))
    found = replace(seen(1).item, source="catch_up")
    assert await h.service.catch_up([SeenMention(found, UserInfo(7, "fan"))], []) == 0
    rows = await h.store.mentions_in(GUILD)
    assert len(rows) == 1 and rows[0].status == MentionStatus.WAITING
    assert h.scheduled == [T0 + timedelta(minutes=2)]


async def test_the_wait_ends_in_one_reply_that_pings_no_one_and_is_logged(h: Harness) -> None:
    await h.handle(seen(1))
    h.clock.moment += timedelta(minutes=2)
    await h.wait_over()
    row = await h.store.mention_by_message(1)
    assert row is not None and row.status == MentionStatus.QUEUED and row.outbox_id
    action = await h.store.get_action(row.outbox_id)
    assert action is not None and action.kind is OutboxKind.REPLY
    assert action.payload["message_id"] == 1 and action.payload["channel_id"] == CHANNEL
    assert action.payload["text"].endswith("fan!") and action.payload["silent"] is False
    timer = await h.store.get_timer(row.timer_id)  # type: ignore[arg-type]
    assert timer is not None and timer.status == "fired"
    await h.wait_over()  # nothing left: no second reply
    assert len(await h.store.actions_for(GUILD, 7)) == 1


async def test_the_owner_posting_after_a_mention_answers_it_not_before(h: Harness) -> None:
    await h.handle(seen(10), seen(30, author=8, name="later"))
    h.service.owner_posted(CHANNEL, 20)  # between the two messages
    await h.service.drain()
    first, second = await h.store.mention_by_message(10), await h.store.mention_by_message(30)
    assert first is not None and first.status == MentionStatus.OWNER_ANSWERED
    assert second is not None and second.status == MentionStatus.WAITING
    h.service.owner_reacted(30)
    h.service.message_deleted(30)  # already answered by the reaction: stays so
    await h.service.drain()
    second = await h.store.mention_by_message(30)
    assert second is not None and second.status == MentionStatus.OWNER_ANSWERED
    h.clock.moment += timedelta(minutes=5)
    await h.wait_over()
    assert await h.store.actions_for(GUILD, 7) == []


async def test_cooldown_per_template_and_channel_budget_per_hour(h: Harness) -> None:
    await h.handle(seen(1), seen(2), seen(3, text="follow me back"))
    h.clock.moment += timedelta(minutes=2)
    await h.wait_over()
    rows = {r.message_id: r for r in await h.store.mentions_in(GUILD)}
    assert rows[1].status == MentionStatus.QUEUED
    assert rows[2].status == MentionStatus.SKIPPED and "cooldown" in (rows[2].outcome or "")
    assert rows[3].status == MentionStatus.QUEUED  # another template: its own cooldown
    await h.handle(seen(4, author=9, name="third"))
    h.clock.moment += timedelta(minutes=2)
    await h.wait_over()
    fourth = await h.store.mention_by_message(4)
    assert fourth is not None and "budget" in (fourth.outcome or "")  # 2 per channel per hour
    h.clock.moment += timedelta(hours=1)
    await h.handle(seen(5, author=9, name="third"))
    h.clock.moment += timedelta(minutes=2)
    await h.wait_over()
    fifth = await h.store.mention_by_message(5)
    assert fifth is not None and fifth.status == MentionStatus.QUEUED  # a new hour


async def test_two_people_never_get_the_same_wording_twice_in_a_row(h: Harness) -> None:
    texts = []
    for n, author in enumerate((7, 8, 7), start=1):
        if n == 3:
            h.clock.moment += timedelta(days=2)  # past the cooldown
        await h.handle(seen(n, author=author, name=f"p{author}", posted_at=h.clock.moment))
        h.clock.moment += timedelta(minutes=2)
        await h.wait_over()
        h.clock.moment += timedelta(hours=1)  # a fresh channel budget
        row = await h.store.mention_by_message(n)
        assert row is not None and row.outbox_id is not None
        action = await h.store.get_action(row.outbox_id)
        assert action is not None
        texts.append((author, row.variant, action.payload["text"]))
    assert texts[0][1] != texts[1][1]
    assert texts[2][1] != texts[0][1]  # p7 never hears the same wording twice in a row
