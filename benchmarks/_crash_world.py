"""The crash test's members: who joined and left when (the truth the checks compare with),
and the seeded driver that makes them join, leave and rejoin through the stand-in.

A *stay* runs from one join to the next leave. The harness picks every `joined_at`
itself and notes the moment just before each leave, so it knows every member's
stays on the same clock as the stand-in's request log and the bot's database.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks._crash_procs import Control, utcnow

# The harness policy decides by username prefix (benchmarks/_crash_policy.yaml).
PREFIXES = {"late": 0.4, "now": 0.15, "look": 0.15, "no": 0.15, "meh": 0.15}
ROLE_ROUTE = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
MESSAGE_ROUTE = "POST /channels/{channel_id}/messages"
READ_BACK_ROUTE = "GET /guilds/{guild_id}/members/{user_id}"


class Journal:
    """moves.log in the work folder: every join, leave, start and kill, timed, to read
    beside the bot's logs when a count is not zero."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")

    def note(self, line: str) -> None:
        self._file.write(f"{utcnow():%H:%M:%S.%f} {line}\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@dataclass
class Stay:
    user_id: int
    joined_at: datetime
    left_at: datetime | None = None  # just before the leave was sent to the stand-in

    def holds(self, moment: datetime) -> bool:
        return self.joined_at <= moment and (self.left_at is None or moment < self.left_at)


@dataclass
class Members:
    """Every stay of every member the harness made, in order."""

    names: dict[int, str] = field(default_factory=dict)
    stays: dict[int, list[Stay]] = field(default_factory=dict)
    present: list[int] = field(default_factory=list)  # in join order, for seeded picks
    absent: list[int] = field(default_factory=list)

    def joined(self, user_id: int, name: str, joined_at: datetime) -> None:
        self.names[user_id] = name
        self.stays.setdefault(user_id, []).append(Stay(user_id, joined_at))
        if user_id in self.absent:
            self.absent.remove(user_id)
        self.present.append(user_id)

    def left(self, user_id: int, at: datetime) -> None:
        self.stays[user_id][-1].left_at = at
        self.present.remove(user_id)
        self.absent.append(user_id)

    def stay_at(self, user_id: int, moment: datetime) -> Stay | None:
        for stay in reversed(self.stays.get(user_id, [])):
            if stay.holds(moment):
                return stay
        return None

    def stay_joined(self, user_id: int, joined_at: datetime) -> Stay | None:
        """The stay that began at `joined_at` (as the bot stored it; within a millisecond)."""
        for stay in self.stays.get(user_id, []):
            if abs(stay.joined_at - joined_at) <= timedelta(milliseconds=1):
                return stay
        return None

    def current(self, user_id: int) -> Stay | None:
        stays = self.stays.get(user_id)
        return stays[-1] if stays and stays[-1].left_at is None else None

    def leave_before(self, user_id: int, moment: datetime) -> datetime | None:
        """When the member last left before `moment`, if they are away at `moment`."""
        last = None
        for stay in self.stays.get(user_id, []):
            if stay.joined_at > moment:
                break
            last = stay.left_at
        return last if last is not None and last <= moment else None


@dataclass
class Tally:
    joins: int = 0
    leaves: int = 0
    rejoins: int = 0
    quick_rejoins: int = 0
    while_down: int = 0
    faults: int = 0


class Driver:
    """Seeded member traffic and faults. Who is picked depends only on the seed and on
    earlier picks (the bot's state never feeds back), so a seed replays the same story."""

    def __init__(
        self,
        control: Control,
        guild_id: int,
        rng: random.Random,
        members: Members,
        journal: Journal,
    ) -> None:
        self.control = control
        self.journal = journal
        self.guild_id = guild_id
        self.rng = rng
        self.members = members
        self.tally = Tally()
        self._next_name = 0

    def join_new(self) -> None:
        prefix = self.rng.choices(list(PREFIXES), weights=list(PREFIXES.values()))[0]
        name = f"{prefix}_{self._next_name}"
        self._next_name += 1
        joined_at = utcnow()
        uid = self.control.call("join", guild_id=self.guild_id, username=name, joined_at=joined_at)
        self.members.joined(int(uid), name, joined_at)
        self.journal.note(f"join {name} ({uid}) joined_at {joined_at:%H:%M:%S.%f}")
        self.tally.joins += 1

    def leave(self) -> None:
        if not self.members.present:
            return
        self._leave(self.rng.choice(self.members.present))
        self.tally.leaves += 1

    def rejoin(self) -> None:
        if self.members.absent:
            self._rejoin(self.rng.choice(self.members.absent))

    def quick_rejoin(self) -> None:
        """Leave and come back within a moment: two stays the bot must keep apart."""
        if not self.members.present:
            return
        uid = self.rng.choice(self.members.present)
        pause = self.rng.uniform(0.0, 0.3)
        self._leave(uid)
        time.sleep(pause)
        self._rejoin(uid)
        self.tally.leaves += 1
        self.tally.quick_rejoins += 1

    def _leave(self, uid: int) -> None:
        self.members.left(uid, utcnow())
        self.control.call("leave", guild_id=self.guild_id, user_id=uid)
        self.journal.note(f"leave {self.members.names[uid]}")

    def _rejoin(self, uid: int) -> None:
        joined_at = utcnow()
        self.control.call("join", guild_id=self.guild_id, user_id=uid, joined_at=joined_at)
        self.members.joined(uid, self.members.names[uid], joined_at)
        self.journal.note(f"rejoin {self.members.names[uid]} joined_at {joined_at:%H:%M:%S.%f}")
        self.tally.rejoins += 1

    def some_traffic(self, new_joins: int, *, down: bool) -> list[str]:
        """A seeded, shuffled list of operations: `new_joins` joins plus leaves and rejoins."""
        ops = ["join_new"] * new_joins
        churn = max(1, new_joins // 3)
        ops += ["leave"] * self.rng.randint(0, churn)
        ops += ["rejoin"] * self.rng.randint(0, churn)
        ops += ["quick_rejoin"] * self.rng.randint(0, max(1, churn // 2))
        self.rng.shuffle(ops)
        if down:
            self.tally.while_down += len(ops)
        return ops

    def run(self, op: str) -> None:
        getattr(self, op)()

    # -- faults ----------------------------------------------------------------------------------
    def inject_fault(self) -> None:
        """One of the faults the issue names: 429, 5xx, 50007, a failed read-back, a drop."""
        kind = self.rng.choice(
            ["role_429", "role_503", "dm_50007", "dm_500", "readback_503", "open_dm_429", "drop"]
        )
        count = self.rng.randint(1, 3)
        if kind == "role_429":
            self.control.call("fail", route=ROLE_ROUTE, status=429, retry_after=0.3, count=count)
        elif kind == "role_503":
            self.control.call("fail", route=ROLE_ROUTE, status=503, count=count)
        elif kind == "dm_50007":
            self.control.call("fail", route=MESSAGE_ROUTE, status=403, code=50007, count=1)
        elif kind == "dm_500":
            self.control.call("fail", route=MESSAGE_ROUTE, status=500, count=count)
        elif kind == "readback_503":
            self.fail_read_back(count=6)
        elif kind == "open_dm_429":
            route = "POST /users/@me/channels"
            self.control.call("fail", route=route, status=429, retry_after=0.3, count=count)
        else:
            self.control.call("drop_connection", resumable=self.rng.random() < 0.5)
        self.journal.note(f"fault {kind} x{count}")
        self.tally.faults += 1

    def fail_read_back(self, count: int) -> None:
        """GET member answers 503 `count` times (discord.py itself retries a 5xx 4 times)."""
        self.control.call("fail", route=READ_BACK_ROUTE, status=503, count=count)
        self.journal.note(f"fault read-back 503 x{count}")
