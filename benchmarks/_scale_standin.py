"""The scale benchmark's stand-in: its own process, a big guild, and paced churn.

    python -m benchmarks._scale_standin      # prints "standin ready: URL"

The stock `StandIn` (member lists in chunks of 1,000 after op 8, as Discord sends them)
plus two endpoints under /_scale/:

* ``POST /_scale/world`` builds the guild: ``members`` followers in it now, of whom
  ``joined_offline`` joined while the bot was down; ``left_offline`` more users who were
  members when the bot stopped and have left since. It answers with what the bot's store
  held at shutdown (the members minus the offline joins, plus the leavers), so the
  benchmark can seed the store with exactly that.
* ``POST /_scale/steady`` starts a steady churn: ``n`` joins at ``rate`` per second, each
  followed by the leave of the oldest follower, so the guild keeps its size and discord.py's
  member cache stays the same size (growth is then the bot's own). The joins' ``joined_at``
  walk through ``sim_seconds`` of simulated time. ``GET /_scale/steady`` tells the progress.

Pacing runs inside this process, so it costs the measured clients nothing.
"""

from __future__ import annotations

import asyncio
import signal
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.standin import StandIn

DOWNTIME = timedelta(hours=6)  # how long the bot was down before this start


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class ScaleStandIn(StandIn):
    def __init__(self) -> None:
        super().__init__(token=None)
        self.followers: deque[int] = deque()  # the guild's followers, oldest join first
        self.guild_id = 0
        self.steady_done = 0
        self.steady_target = 0
        self.steady_task: asyncio.Task[None] | None = None

    def build_app(self) -> web.Application:
        app = super().build_app()
        app.router.add_post("/_scale/world", self._world)
        app.router.add_post("/_scale/steady", self._start_steady)
        app.router.add_get("/_scale/steady", self._steady_progress)
        return app

    # --- the guild ----------------------------------------------------------------------

    def build_world(self, members: int, joined_offline: int, left_offline: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        guild_id = self.add_guild("Scale Server", self.app_owner_id)
        role_id = self.add_role(guild_id, "Mutuals")
        self.add_text_channel(guild_id, "general")
        self.guild_id = guild_id
        old = members - joined_offline
        stored: list[list[Any]] = []
        # Old members joined over two years, the leavers among them; their accounts are older.
        spacing = timedelta(days=700) / max(1, old + left_offline)
        for i in range(old + left_offline):
            joined = now - timedelta(days=730) + spacing * i
            created = joined - timedelta(days=30 + i % 900)
            name = f"member{i}"
            uid = self.add_user(name, created_at=created, avatar=f"{i:032x}")
            stored.append([str(uid), name, _iso(created), _iso(joined)])
            if i < old:  # the last `left_offline` of them have left: users, not members
                self.add_member(guild_id, uid, joined_at=joined)
                self.followers.append(uid)
        # Joined during the downtime.
        new_ids = []
        for i in range(joined_offline):
            joined = now - DOWNTIME + DOWNTIME * (i + 1) / (joined_offline + 1)
            uid = self.add_user(
                f"newcomer{i}", created_at=now - timedelta(days=60 + i % 300), avatar=f"{i:031x}n"
            )
            self.add_member(guild_id, uid, joined_at=joined)
            self.followers.append(uid)
            new_ids.append(str(uid))
        return {
            "guild_id": str(guild_id),
            "owner_id": str(self.app_owner_id),
            "role_id": str(role_id),
            "stored": stored,
            "left_ids": [row[0] for row in stored[old:]],
            "new_ids": new_ids,
            "stopped_at": _iso(now - DOWNTIME),
        }

    async def _world(self, request: web.Request) -> web.Response:
        body = await request.json()
        world = self.build_world(
            int(body["members"]), int(body["joined_offline"]), int(body["left_offline"])
        )
        return web.json_response(world)

    # --- steady churn -------------------------------------------------------------------

    async def _start_steady(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.steady_done = 0
        self.steady_target = int(body["n"])
        self.steady_task = asyncio.create_task(
            self._steady(self.steady_target, float(body["rate"]), float(body["sim_seconds"]))
        )
        return web.json_response({"ok": True})

    async def _steady(self, n: int, rate: float, sim_seconds: float) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        sim_start = datetime.now(UTC)
        step = timedelta(seconds=sim_seconds / max(1, n))
        for i in range(n):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            uid = await self.join(
                self.guild_id,
                username=f"daytime{i}",
                created_at=sim_start - timedelta(days=90 + i % 400),
                avatar=f"{i:030x}dd",
                joined_at=sim_start + step * i,
            )
            self.followers.append(uid)
            await self.leave(self.guild_id, self.followers.popleft())
            self.steady_done = i + 1

    async def _steady_progress(self, request: web.Request) -> web.Response:
        return web.json_response({"done": self.steady_done, "n": self.steady_target})


def serve() -> int:
    async def main() -> int:
        standin = ScaleStandIn()
        await standin.start("127.0.0.1", 0)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"standin ready: {standin.base_url}", flush=True)
        await stop.wait()
        await standin.stop()
        return 0

    return asyncio.run(main())


if __name__ == "__main__":
    raise SystemExit(serve())
