"""The outbox: claimed once, completed, retried, failed, in doubt, cancelled."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.store import ActionSpec, Store
from tests.store.helpers import GUILD, T0

S = timedelta(seconds=1)


async def queue(store: Store, *specs: ActionSpec, user_id: int = 1) -> list[int]:
    return await store.enqueue_actions(GUILD, user_id, list(specs), T0)


async def test_enqueue_and_due_in_time_order(store: Store) -> None:
    later, now, soon = await queue(
        store,
        ActionSpec("dm", {"text": "later"}, not_before=T0 + 10 * S),
        ActionSpec("add_role", {"role_id": 1}),
        ActionSpec("reply", {"text": "soon"}, not_before=T0 + 5 * S),
    )
    assert [row.id for row in await store.due_actions(T0)] == [now]
    assert [row.id for row in await store.due_actions(T0 + 10 * S)] == [now, soon, later]
    assert [row.id for row in await store.due_actions(T0 + 10 * S, limit=2)] == [now, soon]
    assert await store.next_action_due() == T0
    assert await store.enqueue_actions(GUILD, 1, [], T0) == []


async def test_claim_only_once_even_concurrently(store: Store) -> None:
    [row_id] = await queue(store, ActionSpec("dm", {"text": "hi"}))
    results = await asyncio.gather(*(store.claim_action(row_id, T0 + S) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    row = await store.get_action(row_id)
    assert row is not None and row.status == "sending" and row.attempts == 1
    assert row.updated_at == T0 + S
    assert await store.due_actions(T0 + timedelta(days=1)) == []
    assert await store.next_action_due() is None


async def test_complete_records_result(store: Store) -> None:
    [row_id] = await queue(store, ActionSpec("dm", {"text": "hi"}))
    assert not await store.complete_action(row_id, T0)  # not claimed: nothing happens
    assert await store.claim_action(row_id, T0)
    assert await store.complete_action(row_id, T0 + S, {"message_id": "123"})
    row = await store.get_action(row_id)
    assert row is not None and row.status == "done"
    assert row.done_at == T0 + S and row.result == {"message_id": "123"}
    assert not await store.claim_action(row_id, T0 + 2 * S)  # done is final
    assert await store.in_doubt_actions() == []


async def test_claimed_but_not_completed_is_in_doubt(db_path: Path) -> None:
    store = await Store.open(db_path)
    [row_id, other] = await queue(
        store, ActionSpec("reply", {"text": "hi"}), ActionSpec("add_role", {"role_id": 1})
    )
    assert await store.claim_action(row_id, T0)
    await store.close()  # a crash between send and done
    store = await Store.open(db_path)
    try:
        doubt = await store.in_doubt_actions()
        assert [row.id for row in doubt] == [row_id]
        assert await store.mark_uncertain(row_id, T0 + S, "too old to re-send")
        row = await store.get_action(row_id)
        assert row is not None and row.status == "uncertain"
        assert row.last_error == "too old to re-send"
        assert await store.in_doubt_actions() == []
        assert [row.id for row in await store.due_actions(T0 + timedelta(hours=1))] == [other]
    finally:
        await store.close()


async def test_retry_then_fail(store: Store) -> None:
    [row_id] = await queue(store, ActionSpec("add_role", {"role_id": 1}))
    assert await store.claim_action(row_id, T0)
    assert await store.retry_action(row_id, T0 + 30 * S, 500, "server error")
    row = await store.get_action(row_id)
    assert row is not None and row.status == "pending" and row.not_before == T0 + 30 * S
    assert (row.last_error_code, row.last_error, row.attempts) == (500, "server error", 1)
    assert row.updated_at == T0  # still the claim time
    assert await store.due_actions(T0 + 29 * S) == []
    assert await store.next_action_due() == T0 + 30 * S

    assert await store.claim_action(row_id, T0 + 30 * S)
    assert await store.fail_action(row_id, T0 + 31 * S, 50007, "Cannot send messages to this user")
    row = await store.get_action(row_id)
    assert row is not None and row.status == "failed" and row.attempts == 2
    assert row.last_error_code == 50007 and row.done_at == T0 + 31 * S
    assert not await store.retry_action(row_id, T0, None, "again?")  # failed is final
    assert not await store.claim_action(row_id, T0 + timedelta(hours=1))


async def test_retry_of_an_unclaimed_row_waits_without_an_attempt(store: Store) -> None:
    [row_id] = await queue(store, ActionSpec("dm", {"text": "hi"}))
    assert await store.retry_action(row_id, T0 + 60 * S, None, "waiting for a DM slot", at=T0)
    row = await store.get_action(row_id)
    assert row is not None and row.attempts == 0 and row.not_before == T0 + 60 * S


async def test_cancel_pending_actions_by_kind(store: Store) -> None:
    role, dm, sent = await queue(
        store,
        ActionSpec("add_role", {"role_id": 1}),
        ActionSpec("dm", {"text": "hi"}),
        ActionSpec("reply", {"text": "thanks"}),
    )
    [elsewhere] = await queue(store, ActionSpec("add_role", {"role_id": 1}), user_id=2)
    assert await store.claim_action(sent, T0)
    assert await store.cancel_actions(GUILD, 1, T0 + S, kinds=("add_role", "reply")) == 1
    assert await store.cancel_actions(GUILD, 1, T0 + S, kinds=()) == 0
    statuses = {row.id: row.status for row in await store.actions_for(GUILD, 1)}
    assert statuses == {role: "cancelled", dm: "pending", sent: "sending"}
    assert await store.cancel_actions(GUILD, 1, T0 + S) == 1  # every kind
    assert (await store.get_action(dm)).status == "cancelled"  # type: ignore[union-attr]
    assert (await store.get_action(elsewhere)).status == "pending"  # type: ignore[union-attr]
    assert not await store.claim_action(role, T0 + 2 * S)
