"""The durable outbox: every role change, DM and reply goes through here, at most once.

A row is claimed (pending -> sending, committed) before the request goes out and
completed after. A crash in between leaves it `sending`: role changes are safe
to repeat; messages are re-sent with the same nonce only while Discord still
dedupes it, and otherwise marked uncertain rather than risk a second message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.service.actions import ActionFailed, ActionGateway, Verdict
from bot.service.clock import Clock
from bot.service.events import ActionDone, ActionRefused, EventBus, member_label
from bot.service.policy_holder import PolicyHolder
from bot.store import OutboxKind, OutboxRow, Store

log = logging.getLogger(__name__)

MESSAGE_KINDS = frozenset({OutboxKind.DM, OutboxKind.REPLY, OutboxKind.OWNER_DM})
# Discord dedupes an enforced nonce for "a few minutes"; stay well inside that.
NONCE_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class DmLimits:
    per_day: int
    spacing: timedelta
    cooldown: timedelta
    timezone: str = "UTC"


def dm_limits_from(policies: PolicyHolder) -> Callable[[], DmLimits]:
    """The DM limits of the policy in force, read at each DM (a reload applies at once)."""

    def limits() -> DmLimits:
        policy = policies.current
        return DmLimits(
            per_day=policy.limits.dms_per_day,
            spacing=policy.limits.dm_spacing,
            cooldown=policy.limits.dm_cooldown,
            timezone=policy.owner.timezone,
        )

    return limits


def nonce_for(row_id: int) -> str:
    """A nonce derived from the outbox row (Discord allows at most 25 characters)."""
    return f"fb-{row_id}"


def day_start(now: datetime, timezone: str) -> datetime:
    """Midnight of `now`'s day in the owner's timezone (the DM cap resets then)."""
    local = now.astimezone(ZoneInfo(timezone))
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)


class Outbox:
    def __init__(
        self,
        store: Store,
        gateway: ActionGateway,
        clock: Clock,
        dm_limits: Callable[[], DmLimits],
        *,
        max_attempts: int = 8,
        retry_base: timedelta = timedelta(seconds=1),
        # Few role changes in flight: with more, requests wait inside discord.py's
        # bucket when a rate-limit window ends and sleep a whole extra window
        # (benchmarks/pipeline_bench.py: 16 in flight drained ~75% of the limit, 4 ~93%).
        concurrency: int = 4,
        after_send: Callable[[OutboxRow], Awaitable[None]] | None = None,
        events: EventBus | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._clock = clock
        self._dm_limits = dm_limits
        self._max_attempts = max_attempts
        self._retry_base = retry_base
        self._concurrency = asyncio.Semaphore(concurrency)
        self._after_send = after_send  # tests inject a crash here
        self._events = events or EventBus()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="followback-outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("the outbox loop had stopped on an error")
            self._task = None

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    async def recover(self) -> None:
        """Settle rows left `sending` by a crash, before the loop starts."""
        now = self._clock.now()
        real_now = self._clock.real_time_for(now)
        for row in await self._store.in_doubt_actions():
            # Discord's nonce memory runs on real time, whatever our clock says.
            age = real_now - self._clock.real_time_for(row.updated_at)
            if row.kind in MESSAGE_KINDS and age > NONCE_WINDOW:
                await self._store.mark_uncertain(
                    row.id, now, "sent or not before a crash; too old to re-send safely"
                )
                log.warning("outbox %s (%s) left uncertain after a crash", row.id, row.kind)
            elif row.kind in MESSAGE_KINDS:
                # The message keeps its nonce, so Discord returns the first one
                # instead of posting a second.
                await self._store.retry_action(row.id, now, None, "in doubt after a crash")
            elif await self._role_already_applied(row):
                await self._finish(row, now, {"recovered": True})
            else:
                await self._store.retry_action(row.id, now, None, "in doubt after a crash")

    async def _role_already_applied(self, row: OutboxRow) -> bool:
        try:
            has = await self._gateway.has_role(
                row.guild_id, row.user_id, int(row.payload["role_id"])
            )
        except ActionFailed:
            return False  # let the normal path retry or record the refusal
        return has == (row.kind == "add_role")

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                done = await self.drain_once()
            except Exception:
                # The store or a hook failed: keep the loop alive; rows stay durable.
                log.exception("outbox loop step failed; trying again shortly")
                await asyncio.sleep(1.0)
                continue
            if done:
                continue
            await self._sleep_until_next()

    async def _sleep_until_next(self) -> None:
        due = await self._store.next_action_due()
        timeout: float | None = None
        if due is not None:
            now = self._clock.now()
            real_wait = self._clock.real_time_for(due) - self._clock.real_time_for(now)
            timeout = max(real_wait.total_seconds(), 0.01)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def drain_once(self) -> int:
        """Process every action due now; returns how many rows were looked at."""
        rows = await self._store.due_actions(self._clock.now(), limit=200)
        roles = [row for row in rows if row.kind not in MESSAGE_KINDS]
        messages = [row for row in rows if row.kind in MESSAGE_KINDS]
        # Role changes run concurrently (discord.py paces each bucket); messages one
        # by one so the DM spacing and daily cap hold.
        await asyncio.gather(*(self._bounded(row) for row in roles))
        for row in messages:
            await self._process(row)
        return len(rows)

    async def _bounded(self, row: OutboxRow) -> None:
        async with self._concurrency:
            await self._process(row)

    async def _process(self, row: OutboxRow) -> None:
        now = self._clock.now()
        # Only DMs to followers count against the DM limits (OWNER_DM rows do not).
        if row.kind == OutboxKind.DM:
            limits = self._dm_limits()
            slot = await self._store.dm_slot(
                row.user_id,
                now,
                per_day=limits.per_day,
                spacing=limits.spacing,
                cooldown=limits.cooldown,
                day_start=day_start(now, limits.timezone),
            )
            if slot is not None:
                await self._store.retry_action(row.id, slot, None, "waiting for a DM slot")
                return
        if not await self._store.claim_action(row.id, now):
            return
        try:
            result = await self._execute(row)
        except ActionFailed as exc:
            await self._failed(row, exc)
            return
        except (OSError, TimeoutError) as exc:  # network trouble: transient
            await self._failed(row, ActionFailed(0, None, repr(exc)))
            return
        except Exception as exc:
            # Unexpected (a malformed answer, a bug): retried with backoff, then recorded
            # as failed. Safe to repeat: roles are idempotent, messages keep their nonce.
            log.exception("outbox %s (%s): unexpected error", row.id, row.kind)
            await self._failed(row, ActionFailed(0, None, repr(exc)))
            return
        if self._after_send is not None:
            await self._after_send(row)
        await self._finish(row, self._clock.now(), result)

    async def _finish(self, row: OutboxRow, finished: datetime, result: dict[str, Any]) -> None:
        # Done, the DM logged and the follow state recorded, all at once: a crash cannot
        # leave a role given but the member not marked followed (catch-up would then
        # take the role for the owner's hand).
        await self._store.finish_action(row, finished, result)
        if self._events.listening:
            text = str(row.payload.get("text", "")) if row.kind in MESSAGE_KINDS else None
            name = await self._member_name(row)
            self._events.emit(
                ActionDone(finished, row.guild_id, row.user_id, name, row.id, row.kind, text)
            )

    async def _member_name(self, row: OutboxRow) -> str:
        member = await self._store.get_member(row.guild_id, row.user_id)
        if member is None:
            return str(row.user_id)
        return member_label(member.display_name, member.username)

    async def _execute(self, row: OutboxRow) -> dict[str, Any]:
        payload = row.payload
        if row.kind == "add_role":
            await self._gateway.add_role(
                row.guild_id, row.user_id, int(payload["role_id"]), payload.get("reason", "")
            )
            return {}
        if row.kind == "remove_role":
            await self._gateway.remove_role(
                row.guild_id, row.user_id, int(payload["role_id"]), payload.get("reason", "")
            )
            return {}
        if row.kind in (OutboxKind.DM, OutboxKind.OWNER_DM):
            message_id = await self._gateway.send_dm(
                row.user_id, payload["text"], nonce_for(row.id)
            )
            return {"message_id": message_id}
        if row.kind == "reply":
            message_id = await self._gateway.send_reply(
                int(payload["channel_id"]),
                int(payload["message_id"]),
                payload["text"],
                nonce_for(row.id),
            )
            return {"message_id": message_id}
        raise ActionFailed(400, None, f"unknown action kind {row.kind!r}")

    async def _failed(self, row: OutboxRow, exc: ActionFailed) -> None:
        now = self._clock.now()
        attempts = row.attempts + 1
        if exc.verdict is Verdict.RETRY and attempts < self._max_attempts:
            wait = (
                timedelta(seconds=exc.retry_after)
                if exc.retry_after
                else self._retry_base * 2 ** (attempts - 1)
            )
            await self._store.retry_action(row.id, now + wait, exc.code, str(exc))
            log.info("outbox %s (%s) will retry: %s", row.id, row.kind, exc)
            return
        await self._store.fail_action(row.id, now, exc.code, str(exc))
        log.warning("outbox %s (%s) refused for good: %s", row.id, row.kind, exc)
        if self._events.listening:
            name = await self._member_name(row)
            self._events.emit(
                ActionRefused(
                    now, row.guild_id, row.user_id, name, row.id, row.kind, exc.code, str(exc)
                )
            )
