"""Start-up as Discord plays it: the member list arrives in chunks after GUILD_CREATE.

Discord's docs (github:discord/discord-api-docs): events/gateway-events.mdx "Guild Create"
(without GUILD_PRESENCES only the bot is listed), "Request Guild Members" (chunks of up to
1,000), "Rate Limited" and the change-log's "1 request per guild per bot every 30 seconds".
discord.py 2.7 asks with op 8 at start (state.py `_delay_ready` / `chunk_guild`), waits at most
5 s for the chunks and ignores RATE_LIMITED.
"""

from __future__ import annotations

import pytest

from bot.standin.chunking import ALL_MEMBERS_WINDOW
from tests.e2e.conftest import Harness, eventually

PARTIAL_LIST = "issue 9 item 2: catch-up from a partial list"


async def _present(harness: Harness) -> set[int]:
    rows = await harness.store.known_members(harness.guild_id)
    return {uid for uid, row in rows.items() if row.present}


async def test_a_5000_member_guild_is_caught_up_from_its_chunks(harness: Harness) -> None:
    """events/gateway-events.mdx "Guild Create" warning and "Request Guild Members": GUILD_CREATE
    lists only the bot; 5,003 members come as 6 chunks of at most 1,000, and the bot's catch-up
    at on_ready sees every one of them."""
    standin = harness.standin
    joined = set(await standin.join_many(harness.guild_id, 5000, prefix="quiet_fan"))
    running = await harness.start()
    (request,) = standin.member_requests.received
    assert (request.all_members, request.answer, request.chunks) == (True, "chunks", 6)
    guild = running.bot.get_guild(harness.guild_id)
    assert guild is not None and guild.chunked and len(guild.members) == 5005
    assert joined | set(harness.world.member_ids) <= await _present(harness)


async def test_a_restart_within_30_s_is_rate_limited_and_the_bot_still_starts(
    harness: Harness,
) -> None:
    """events/gateway-events.mdx "Rate Limited": a second request for all members of a guild
    within 30 s is answered with RATE_LIMITED (opcode 8, retry_after, meta.guild_id, meta.nonce)
    and no chunks; discord.py ignores it and fires on_ready after its chunk timeout."""
    standin = harness.standin
    standin.member_requests.window = ALL_MEMBERS_WINDOW
    await harness.start()
    await harness.stop()
    await harness.start()
    assert [r.answer for r in standin.member_requests.received] == ["chunks", "rate_limited"]
    (limited,) = standin.member_requests.rate_limited
    assert limited["opcode"] == 8 and 0 < limited["retry_after"] <= ALL_MEMBERS_WINDOW
    assert limited["meta"]["guild_id"] == str(harness.guild_id)
    assert limited["meta"]["nonce"] == standin.member_requests.received[1].nonce


async def test_a_member_who_left_while_the_bot_was_down_is_recorded_as_left(
    harness: Harness,
) -> None:
    """events/gateway-events.mdx "Request Guild Members": the complete list comes in chunks, so
    whoever is missing from it really left."""
    await harness.start()
    stays, leaves = harness.world.member_ids[:2]
    await harness.stop()
    await harness.standin.leave(harness.guild_id, leaves)
    await harness.start()
    present = await _present(harness)
    assert stays in present and leaves not in present


@pytest.mark.xfail(strict=True, reason=PARTIAL_LIST)
async def test_a_rate_limited_restart_records_no_one_as_left_and_keeps_their_timers(
    harness: Harness,
) -> None:
    """events/gateway-events.mdx "Rate Limited": after a restart within 30 s the member list
    never comes; no stored member may be taken for a leave, and a late follow-back still
    happens."""
    harness.standin.member_requests.window = ALL_MEMBERS_WINDOW
    await harness.start()
    later = await harness.join("later_lou")
    await harness.decided(later)
    await harness.stop()
    await harness.start()
    assert set(harness.world.member_ids) | {later} <= await _present(harness)
    await eventually(lambda: harness.has_role(later), timeout=15)


@pytest.mark.xfail(strict=True, reason=PARTIAL_LIST)
async def test_chunks_withheld_until_after_on_ready_record_no_one_as_left(
    harness: Harness,
) -> None:
    """events/gateway-events.mdx "Guild Members Chunk": chunks that come after discord.py gave up
    waiting (on_ready with only the bot listed) must not turn everyone else into a leave; the
    catch-up completes once they arrive."""
    await harness.start()
    later = await harness.join("later_liv")
    await harness.decided(later)
    await harness.stop()
    harness.standin.member_requests.withhold()
    await harness.start()
    assert harness.standin.member_requests.release() == 1
    assert set(harness.world.member_ids) | {later} <= await _present(harness)
    await eventually(lambda: harness.has_role(later), timeout=15)
