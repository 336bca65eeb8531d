"""The scale benchmark's store as the bot left it when it stopped, written through the Store.

Every stored member joined and was decided, as the live bot would have done it:
``Store.record_joins`` then ``Store.record_decisions`` in batches (one transaction each),
so the rows are the store's own. Among them:

* ``timers`` pending timers, half late follow-backs (``later``) and half observe windows,
  on members picked at random (leavers included: their timers must settle as "left");
  ``due_offline`` of them fell due during the downtime (they fire at start), the rest are
  due in the next 14 days;
* ``outbox`` pending role additions (follow-backs whose role had not gone out yet), on
  members still in the guild, due at once.
The rest are ``review`` decisions (a person decides), which cause nothing.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.policy.decision import Action, Decision
from bot.store import ActionSpec, DecisionInput, JoinInput, Store, TimerSpec, UserInfo

BATCH = 2_000


@dataclass
class Seeded:
    """What was written, for the checks afterwards."""

    members: int
    timers: dict[int, datetime] = field(default_factory=dict)  # user id -> due
    outbox: set[int] = field(default_factory=set)  # user ids with a pending add_role
    due_offline: int = 0
    seconds: float = 0.0


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def plan(world: dict[str, Any], timers: int, outbox: int, due_offline: int, seed: int) -> Seeded:
    """Who gets a timer (and when it is due) and who a pending role addition."""
    rng = random.Random(seed)
    stored = world["stored"]
    left = set(world["left_ids"])
    stopped, now = _dt(world["stopped_at"]), datetime.now(UTC)
    order = list(range(len(stored)))
    rng.shuffle(order)
    out = Seeded(members=len(stored), due_offline=min(due_offline, timers))
    for n, index in enumerate(order[:timers]):
        if n < out.due_offline:
            due = stopped + (now - stopped) * rng.random()
        else:
            due = now + timedelta(hours=1) + timedelta(days=14) * rng.random()
        out.timers[int(stored[index][0])] = due
    present = (int(stored[i][0]) for i in order[timers:] if stored[i][0] not in left)
    out.outbox.update(uid for uid, _ in zip(present, range(outbox), strict=False))
    return out


async def seed_store(
    database: Path, world: dict[str, Any], *, timers: int, outbox: int, due_offline: int, seed: int
) -> Seeded:
    started = time.perf_counter()
    planned = plan(world, timers, outbox, due_offline, seed)
    guild_id, role_id = int(world["guild_id"]), int(world["role_id"])
    kinds = (Action.LATER, Action.OBSERVE)
    store = await Store.open(database)
    try:
        stored = world["stored"]
        for start in range(0, len(stored), BATCH):
            rows = stored[start : start + BATCH]
            at = _dt(rows[-1][3])
            joins = [
                JoinInput(
                    guild_id,
                    UserInfo(int(uid), name, created_at=_dt(created)),
                    _dt(joined),
                )
                for uid, name, created, joined in rows
            ]
            recorded = await store.record_joins(joins, at)
            items = []
            for (event_id, row, _), n in zip(
                recorded, range(start, start + len(rows)), strict=True
            ):
                uid = row.user_id
                timer: TimerSpec | None = None
                actions: tuple[ActionSpec, ...] = ()
                if uid in planned.timers:
                    action = kinds[n % 2]
                    made = Decision(rule="fresh accounts", action=action, due=planned.timers[uid])
                    timer = TimerSpec(action.value, planned.timers[uid])
                elif uid in planned.outbox:
                    made = Decision(rule="regulars", action=Action.FOLLOW_BACK)
                    reason = "follow back (rule regulars)"
                    actions = (ActionSpec("add_role", {"role_id": role_id, "reason": reason}),)
                else:
                    made = Decision(rule="everyone else", action=Action.REVIEW)
                items.append(DecisionInput(guild_id, uid, event_id, made, False, actions, timer))
            await store.record_decisions(items, at)
    finally:
        await store.close()
    planned.seconds = time.perf_counter() - started
    return planned
