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
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.service.actions import UNKNOWN_MEMBER, ActionFailed, ActionGateway, Verdict
from bot.service.clock import Clock
from bot.service.events import ActionDone, ActionRefused, EventBus, member_label
from bot.service.policy_holder import PolicyHolder
from bot.store import OutboxKind, OutboxRow, Store

log = logging.getLogger(__name__)

MESSAGE_KINDS = frozenset({OutboxKind.DM, OutboxKind.REPLY, OutboxKind.OWNER_DM, OutboxKind.DIGEST})
# Sends a row of a kind the outbox itself does not know (the digest), with its nonce.
Sender = Callable[[OutboxRow, str], Awaitable[dict[str, Any]]]
ROLE_KINDS = frozenset({OutboxKind.ADD_ROLE, OutboxKind.REMOVE_ROLE})
# A read-back of a role change in doubt that fails is tried again, waiting longer each time
# up to this, this many times in all; then the row is left uncertain (never repeated).
READ_BACK_WAIT_CAP = timedelta(seconds=30)
READ_BACK_TRIES = 12
HELD_RECHECK = 1.0  # seconds: rows waiting for a catch-up are looked at again this often
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


def day_start(now: datetime, timezone: str) -> datetime:
    """Midnight of `now`'s day in the owner's timezone (the DM cap resets then)."""
    local = now.astimezone(ZoneInfo(timezone))
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)


@dataclass(slots=True)
class _Lane:
    """One drain loop over some kinds of rows, with its own wake-up."""

    name: str
    kinds: tuple[str, ...]
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    held: bool = False  # due rows were left waiting for their guild's catch-up


@dataclass(frozen=True, slots=True)
class _Doubt:
    """A role change in doubt after a crash: read back `reads` times so far, in vain."""

    row: OutboxRow
    again_at: datetime
    reads: int = 0


def _as_failure(exc: Exception) -> ActionFailed:
    return exc if isinstance(exc, ActionFailed) else ActionFailed(0, None, repr(exc))


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
        # Role changes and messages drain independently: Discord limits them in separate
        # buckets, and a DM must not wait behind a batch of role changes (issue 10).
        self._roles = _Lane("roles", tuple(ROLE_KINDS))
        self._messages = _Lane("messages", tuple(k for k in OutboxKind if k not in ROLE_KINDS))
        self._lanes = (self._roles, self._messages)
        self._doubts: dict[int, _Doubt] = {}  # role changes in doubt whose read-back failed
        self._senders: dict[str, Sender] = {}
        # Rows about a member's stay wait until the stays of their guild are known (the
        # start-up catch-up): the member may have left or rejoined while the bot was down.
        self.stay_ready: Callable[[int], bool] = lambda guild_id: True
        self.paused: Callable[[], bool] = lambda: False  # /pause: nothing leaves the outbox

    def register_sender(self, kind: OutboxKind, sender: Sender) -> None:
        """Who sends rows of `kind` (the digest service's pages), at most once as the rest."""
        self._senders[kind] = sender

    def wake(self) -> None:
        for lane in self._lanes:
            lane.wake.set()

    def start(self) -> None:
        for lane in self._lanes:
            lane.task = asyncio.create_task(self._run(lane), name=f"followback-outbox-{lane.name}")

    async def stop(self) -> None:
        for lane in self._lanes:
            if lane.task is None:
                continue
            lane.task.cancel()
            try:
                await lane.task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("the outbox %s loop had stopped on an error", lane.name)
            lane.task = None

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The role lane's task (each lane runs one)."""
        return self._roles.task

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        return [lane.task for lane in self._lanes if lane.task is not None]

    async def recover(self) -> None:
        """Settle rows left `sending` by a crash, before the loops start. A role change
        whose read-back fails stays in doubt and is read again by the role lane."""
        now = self._clock.now()
        real_now = self._clock.real_time_for(now)
        for row in await self._store.in_doubt_actions():
            if row.kind in ROLE_KINDS:
                await self._read_back(_Doubt(row, now))
                continue
            # Discord's nonce memory runs on real time, whatever our clock says.
            age = real_now - self._clock.real_time_for(row.updated_at)
            if age > NONCE_WINDOW:
                await self._store.mark_uncertain(
                    row.id, now, "sent or not before a crash; too old to re-send safely"
                )
                log.warning("outbox %s (%s) left uncertain after a crash", row.id, row.kind)
            else:
                # The message keeps its nonce, so Discord returns the first one
                # instead of posting a second (a claim drops it if its stay ended).
                await self._store.retry_action(row.id, now, None, "in doubt after a crash")

    async def _read_back(self, doubt: _Doubt) -> None:
        """Did an in-doubt role change take effect? Read the member's roles: yes settles
        it, no sends it again; a read that fails answers nothing, so the row stays in
        doubt and is read again later, and the change is never repeated on a guess."""
        row, now = doubt.row, self._clock.now()
        self._doubts.pop(row.id, None)
        if await self._store.drop_if_stay_ended(row.id, now, "in doubt; its stay had ended"):
            return
        try:
            has = await self._gateway.has_role(
                row.guild_id, row.user_id, int(row.payload["role_id"])
            )
        except (ActionFailed, OSError, TimeoutError) as exc:
            await self._read_back_failed(doubt, _as_failure(exc))
            return
        if has == (row.kind == OutboxKind.ADD_ROLE):
            await self._finish(row, now, {"recovered": True})
        else:
            await self._store.retry_action(row.id, now, None, "in doubt: not applied; again")

    async def _read_back_failed(self, doubt: _Doubt, exc: ActionFailed) -> None:
        row, now = doubt.row, self._clock.now()
        if exc.code == UNKNOWN_MEMBER:
            # Not in the guild: the role is gone with them and nothing is left to do.
            await self._store.cancel_in_doubt(row.id, now, f"in doubt; member gone: {exc}")
        elif exc.verdict is Verdict.GIVE_UP or doubt.reads + 1 >= READ_BACK_TRIES:
            await self._store.mark_uncertain(row.id, now, f"in doubt; read-back failed: {exc}")
            log.warning("outbox %s (%s) left uncertain: %s", row.id, row.kind, exc)
        else:
            wait = min(self._retry_base * 2**doubt.reads, READ_BACK_WAIT_CAP)
            if exc.retry_after:
                wait = max(wait, timedelta(seconds=exc.retry_after))
            self._doubts[row.id] = _Doubt(row, now + wait, doubt.reads + 1)
            log.info(
                "outbox %s (%s): read-back failed (%s); again in %s", row.id, row.kind, exc, wait
            )
            self._roles.wake.set()

    async def _run(self, lane: _Lane) -> None:
        while True:
            lane.wake.clear()
            try:
                done = await self._drain(lane)
            except Exception:
                # The store or a hook failed: keep the loop alive; rows stay durable.
                log.exception("outbox %s loop step failed; trying again shortly", lane.name)
                await asyncio.sleep(1.0)
                continue
            if done:
                continue
            await self._sleep_until_next(lane)

    async def _sleep_until_next(self, lane: _Lane) -> None:
        due = None if self.paused() else await self._store.next_action_due(lane.kinds)
        if lane is self._roles and self._doubts and not self.paused():
            soonest = min(doubt.again_at for doubt in self._doubts.values())
            due = soonest if due is None else min(due, soonest)
        timeout: float | None = None
        if due is not None:
            now = self._clock.now()
            real_wait = self._clock.real_time_for(due) - self._clock.real_time_for(now)
            timeout = max(real_wait.total_seconds(), 0.01)
        if lane.held:  # due rows wait for a catch-up, which wakes the lane when done
            timeout = HELD_RECHECK if timeout is None else max(timeout, HELD_RECHECK)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lane.wake.wait(), timeout)

    async def drain_once(self) -> int:
        """Process every action due now, both lanes; returns how many rows were looked at."""
        counts = await asyncio.gather(*(self._drain(lane) for lane in self._lanes))
        return sum(counts)

    async def _drain(self, lane: _Lane) -> int:
        if self.paused():
            return 0  # rows stay pending; /resume wakes the loop
        now = self._clock.now()
        looked = 0
        if lane is self._roles:
            again = [d for d in self._doubts.values() if d.again_at <= now]
            for doubt in again:
                await self._read_back(doubt)
            looked += len(again)
        due = await self._store.due_actions(now, limit=200, kinds=lane.kinds)
        rows = [row for row in due if row.stay is None or self.stay_ready(row.guild_id)]
        lane.held = len(rows) < len(due)
        if lane is self._roles:
            # Role changes run concurrently (discord.py paces each bucket).
            await asyncio.gather(*(self._bounded(row) for row in rows))
        else:
            # Messages one by one so the DM spacing and daily cap hold.
            for row in rows:
                await self._process(row)
        return looked + len(rows)

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
                row.user_id, payload["text"], self._store.message_nonce(row.id)
            )
            return {"message_id": message_id}
        if row.kind == "reply":
            message_id = await self._gateway.send_reply(
                int(payload["channel_id"]),
                int(payload["message_id"]),
                payload["text"],
                self._store.message_nonce(row.id),
                silent=bool(payload.get("silent", False)),
            )
            return {"message_id": message_id}
        sender = self._senders.get(row.kind)
        if sender is not None:
            return await sender(row, self._store.message_nonce(row.id))
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
