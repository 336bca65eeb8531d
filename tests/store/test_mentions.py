"""The mentions and channel_cursors tables through the Store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import (
    ActionSpec,
    MentionInput,
    MentionStatus,
    MentionVerdict,
    OutboxKind,
    Store,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD, CHANNEL = 1, 2


def mention(message_id: int, author: int = 7, posted: datetime = T0) -> MentionInput:
    return MentionInput(GUILD, CHANNEL, message_id, author, "fan", posted, text="hi")


def verdict(status: MentionStatus, wait: datetime | None = None) -> MentionVerdict:
    return MentionVerdict("everyone", "reply", "thank", "matched", "v1", status, None, wait)


WAIT = verdict(MentionStatus.WAITING, T0 + timedelta(minutes=2))


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    async with await Store.open(":memory:") as s:
        yield s


def reply(message_id: int) -> ActionSpec:
    return ActionSpec(OutboxKind.REPLY, {"channel_id": CHANNEL, "message_id": message_id})


async def test_a_message_is_stored_once_with_its_decision_and_timer(store: Store) -> None:
    stored = await store.store_mention(mention(1), WAIT, T0)
    assert stored is not None and stored[1] is not None
    assert await store.store_mention(mention(1), WAIT, T0) is None  # found again at start
    row = await store.mention_by_message(1)
    assert row is not None and (row.rule, row.explanation, row.status) == (
        "everyone", "matched", "waiting",
    )  # fmt: skip
    timer = await store.get_timer(stored[1])
    assert timer is not None and timer.kind == "mention_wait" and timer.due == WAIT.wait_until
    assert await store.mention_for_timer(stored[1]) == row


async def test_a_reply_is_queued_once_and_never_for_a_settled_mention(store: Store) -> None:
    await store.store_mention(mention(1), WAIT, T0)
    await store.store_mention(mention(2), WAIT, T0)
    first = await store.mention_by_message(1)
    second = await store.mention_by_message(2)
    assert first is not None and second is not None
    assert await store.queue_mention_reply(first, "thank", 1, reply(1), T0) is not None
    assert await store.queue_mention_reply(first, "thank", 1, reply(1), T0) is None
    await store.owner_posted(CHANNEL, 3, "the owner answered first", T0)
    assert await store.queue_mention_reply(second, "thank", 0, reply(2), T0) is None
    assert len(await store.actions_for(GUILD, 7)) == 1
    room = await store.reply_room(
        second, "thank", cooldown_since=T0 - timedelta(days=1), budget_since=T0 - timedelta(hours=1)
    )
    assert (room.last_same_reply, room.channel_replies, room.last_variant) == (T0, 1, 1)
    outside = await store.reply_room(second, "thank", cooldown_since=T0, budget_since=T0)
    assert (outside.last_same_reply, outside.channel_replies) == (None, 0)


async def test_the_owner_answers_only_mentions_posted_before(store: Store) -> None:
    for message_id in (10, 30):
        await store.store_mention(mention(message_id), WAIT, T0)
    assert len(await store.owner_posted(CHANNEL, 20, "answered", T0)) == 1
    assert [m.message_id for m in await store.waiting_mentions()] == [30]
    assert await store.mention_message_event(30, MentionStatus.DELETED, "deleted", T0) != []
    assert await store.waiting_mentions() == []
    assert await store.mention_message_event(30, MentionStatus.DELETED, "again", T0) == []


async def test_unanswered_lists_notify_too_old_and_refused_replies(store: Store) -> None:
    await store.store_mention(mention(1), verdict(MentionStatus.LISTED), T0)
    await store.store_mention(mention(2), verdict(MentionStatus.TOO_OLD), T0)
    await store.store_mention(mention(3), verdict(MentionStatus.IGNORED), T0)
    await store.store_mention(mention(4), WAIT, T0)
    await store.store_mention(mention(5), WAIT, T0)
    await store.store_mention(
        mention(6, posted=T0 - timedelta(days=3)), verdict(MentionStatus.LISTED), T0
    )
    for message_id in (4, 5):
        row = await store.mention_by_message(message_id)
        assert row is not None
        await store.queue_mention_reply(row, "thank", 0, reply(message_id), T0)
    refused = await store.mention_by_message(4)
    assert refused is not None and refused.outbox_id is not None
    await store.claim_action(refused.outbox_id, T0)
    await store.fail_action(refused.outbox_id, T0, 50013, "Missing Permissions")
    found = await store.unanswered_mentions(T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert [m.message_id for m in found] == [1, 2, 4]


async def test_a_channel_cursor_never_moves_back(store: Store) -> None:
    await store.save_channel_cursors([(CHANNEL, GUILD, 50), (3, GUILD, 7)], T0)
    await store.save_channel_cursors([(CHANNEL, GUILD, 40)], T0)
    assert await store.channel_cursors(GUILD) == {CHANNEL: 50, 3: 7}
    assert await store.channel_cursors(99) == {}
