"""Start-up as Discord plays it: the member list arrives in chunks after GUILD_CREATE.

Discord's docs (github:discord/discord-api-docs): events/gateway-events.mdx "Guild Create"
(without GUILD_PRESENCES only the bot is listed), "Request Guild Members" (chunks of up to
1,000), "Rate Limited" and the change-log's "1 request per guild per bot every 30 seconds".
discord.py 2.7 asks with op 8 at start (state.py `_delay_ready` / `chunk_guild`), waits at most
5 s for the chunks and ignores RATE_LIMITED.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.standin.chunking import ALL_MEMBERS_WINDOW
from tests.e2e.conftest import Harness, eventually

SHORT_WINDOW = 1.0  # seconds: the stand-in's member_request_window, so tests don't wait 30 s


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


async def _cancelled(harness: Harness, user_id: int) -> list[str]:
    """A member's outbox rows and timers that were cancelled (a leave cancels them)."""
    outbox = await harness.store.actions_for(harness.guild_id, user_id)
    timers = await harness.store.timers_for(harness.guild_id, user_id)
    return [f"outbox {row.id}" for row in outbox if row.status == "cancelled"] + [
        f"timer {timer.id}" for timer in timers if timer.status == "cancelled"
    ]


async def test_a_rate_limited_restart_records_no_one_as_left_and_keeps_their_timers(
    harness: Harness,
) -> None:
    """events/gateway-events.mdx "Rate Limited": after a restart within the window the member
    list does not come; no stored member may be taken for a leave, a late follow-back still
    happens, and once retry_after has passed the bot asks again and the catch-up completes."""
    standin = harness.standin
    standin.member_requests.window = SHORT_WINDOW  # Discord's is 30 s; the same rule, sooner
    await harness.start()
    later = await harness.join("later_lou")
    await harness.decided(later)
    await harness.stop()
    gone = harness.world.member_ids[0]
    await standin.leave(harness.guild_id, gone)  # really left while the bot was down
    running = await harness.start()
    await eventually(lambda: harness.has_role(later), timeout=15)
    await asyncio.wait_for(running.bot.caught_up.wait(), timeout=15)
    # Asked again only after retry_after: an earlier request would be rate-limited again.
    answers = [r.answer for r in standin.member_requests.received]
    assert answers == ["chunks", "rate_limited", "chunks"]
    present = await _present(harness)
    assert gone not in present  # the complete list shows the leave
    assert set(harness.world.member_ids) - {gone} | {later} <= present
    assert await _cancelled(harness, later) == []


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
    running = await harness.start()
    guild = running.bot.get_guild(harness.guild_id)
    assert guild is not None and len(guild.members) < (guild.member_count or 0)
    assert not running.bot.caught_up.is_set()
    assert set(harness.world.member_ids) | {later} <= await _present(harness)
    assert await harness.store.timers_for(harness.guild_id, later)  # the late follow-back
    assert await _cancelled(harness, later) == []
    assert harness.standin.member_requests.release() == 1
    await asyncio.wait_for(running.bot.caught_up.wait(), timeout=15)
    assert guild.chunked and running.bot.member_lists.asked.get(harness.guild_id, 0) == 0
    assert set(harness.world.member_ids) | {later} <= await _present(harness)
    await eventually(lambda: harness.has_role(later), timeout=15)


async def test_a_live_join_while_the_list_is_incomplete_is_handled_and_kept(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Live events while the member list is partial are handled as usual (the waiting is
    logged once); the catch-up that follows the chunks neither repeats nor undoes them."""
    await harness.start()
    await harness.stop()
    standin = harness.standin
    standin.member_requests.withhold()
    with caplog.at_level(logging.WARNING, logger="bot.client.roster"):
        running = await harness.start()
    (waiting,) = [r.getMessage() for r in caplog.records if r.name == "bot.client.roster"]
    assert "Followback Test Server incomplete" in waiting and "of 5 members known" in waiting
    newcomer = await harness.join("newcomer_nia")
    await harness.decided(newcomer)
    assert not running.bot.caught_up.is_set()
    standin.member_requests.release()
    await asyncio.wait_for(running.bot.caught_up.wait(), timeout=15)
    await harness.idle()
    assert newcomer in await _present(harness)
    assert len(await harness.store.decisions_for(harness.guild_id, newcomer)) == 1
