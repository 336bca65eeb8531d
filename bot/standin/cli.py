"""`followback standin`: the stand-in as a standalone server with a sample guild."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from bot.standin.chunking import ALL_MEMBERS_WINDOW
from bot.standin.server import StandIn


async def _serve(host: str, port: int, member_request_window: float) -> int:
    # any bot token is accepted; op 8 and REST (roles, creating DMs) are rate limited as on Discord
    standin = StandIn(token=None, member_request_window=member_request_window)
    world = standin.seed_sample()
    await standin.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    print(f"standin ready: {standin.base_url}", flush=True)
    print(
        f"  guild {world.guild_id} (owner {world.owner_id}),"
        f" role Mutuals {world.follow_back_role_id}, #general {world.general_channel_id},"
        f" #followback-digest {world.digest_channel_id}",
        flush=True,
    )
    print(
        f"  bot user / application {standin.bot_user_id}; control API: {standin.base_url}/_standin",
        flush=True,
    )
    print(f"  member list: one request per guild per {member_request_window:g} s", flush=True)
    try:
        await stop.wait()
    finally:
        await standin.stop()
    return 0


def serve(host: str, port: int, member_request_window: float = ALL_MEMBERS_WINDOW) -> int:
    if member_request_window < 0:
        print("standin: --member-request-window must be 0 or more seconds", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(host, port, member_request_window))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 0
    except OSError as exc:
        print(f"standin: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
