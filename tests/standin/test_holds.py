"""Held answers: a request takes effect and is recorded, its answer waits (the in-doubt window
of a client that dies before it hears back)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import TOKEN, BareClient

ROLE_PUT = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"


async def _post(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> Any:
    async with http.post(url, json=kwargs) as resp:
        data = await resp.json()
        assert resp.status == 200, data
        return data["result"]


async def test_a_held_put_takes_effect_and_is_recorded_before_its_answer(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    uid = world.member_ids[0]
    standin.hold_responses(ROLE_PUT, count=1)
    put = asyncio.create_task(bot.http.add_role(world.guild_id, uid, world.follow_back_role_id))
    (held,) = await standin.wait_held(1)
    assert world.follow_back_role_id in standin.member_roles(world.guild_id, uid)
    (recorded,) = standin.recorder.requests(route=ROLE_PUT)
    assert recorded.held and recorded.status == 204 and held.recorded == recorded
    await asyncio.sleep(0.1)
    assert not put.done()  # the bot has not heard back
    assert standin.release_held() == 1
    await asyncio.wait_for(put, 2)
    assert standin.held() == []
    # only the next one was held
    await bot.http.remove_role(world.guild_id, uid, world.follow_back_role_id)
    await bot.http.add_role(world.guild_id, uid, world.follow_back_role_id)
    assert [r.held for r in standin.recorder.requests(route=ROLE_PUT)] == [True, False]


async def test_a_held_answer_goes_out_at_its_timeout(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    standin.hold_responses(ROLE_PUT, timeout=0.3)
    started = time.monotonic()
    await bot.http.add_role(world.guild_id, world.member_ids[0], world.follow_back_role_id)
    assert time.monotonic() - started >= 0.3
    assert standin.held() == []


async def test_a_faulted_answer_is_not_held_the_retry_is(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    standin.faults.fail(ROLE_PUT, 502)  # discord.py retries a 502
    standin.hold_responses(ROLE_PUT)
    put = asyncio.create_task(
        bot.http.add_role(world.guild_id, world.member_ids[0], world.follow_back_role_id)
    )
    await standin.wait_held(1)
    recorded = standin.recorder.requests(route=ROLE_PUT)
    assert [(r.status, r.held) for r in recorded] == [(502, False), (204, True)]
    standin.release_held()
    await asyncio.wait_for(put, 2)


async def test_held_over_http_while_the_client_dies(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """The crash test's in-doubt window: role PUT applied, the answer never received."""
    control = f"{standin.base_url}/_standin"
    uid = world.member_ids[1]
    await _post(http, f"{control}/hold_responses", route=ROLE_PUT, count=1)
    role = world.follow_back_role_id
    url = f"{standin.base_url}/api/v10/guilds/{world.guild_id}/members/{uid}/roles/{role}"
    doomed = aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"})
    put = asyncio.create_task(doomed.put(url))
    (held,) = await _post(http, f"{control}/wait_held", count=1, timeout=5)
    assert held["held"] is True and held["method"] == "PUT" and held["status"] == 204
    assert held["path"].endswith(f"/members/{uid}/roles/{world.follow_back_role_id}")
    put.cancel()
    await doomed.close()  # "killed": the answer will never be read
    roles = await _post(http, f"{control}/member_roles", guild_id=world.guild_id, user_id=uid)
    assert str(world.follow_back_role_id) in roles
    assert len(await _post(http, f"{control}/held")) == 1
    assert await _post(http, f"{control}/release_held") == 1
    assert await _post(http, f"{control}/held") == []
    async with http.get(f"{control}/requests", params={"route": ROLE_PUT}) as resp:
        (recorded,) = (await resp.json())["result"]
    assert recorded["held"] is True and recorded["index"] == held["index"]
    # a hold never used is dropped by clear_holds: the next PUT is answered at once
    await _post(http, f"{control}/hold_responses", route=ROLE_PUT, count=1)
    assert await _post(http, f"{control}/clear_holds") == 0
    resp = await asyncio.wait_for(http.put(url, headers={"Authorization": f"Bot {TOKEN}"}), 2)
    assert resp.status == 204
    resp.release()
    assert standin.held() == []


async def test_clear_faults_releases_held_answers_and_drops_hold_rules(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    standin.hold_responses(ROLE_PUT, count=2)
    put = asyncio.create_task(
        bot.http.add_role(world.guild_id, world.member_ids[0], world.follow_back_role_id)
    )
    await standin.wait_held(1)
    standin.clear_faults()
    await asyncio.wait_for(put, 2)
    await bot.http.add_role(world.guild_id, world.member_ids[1], world.follow_back_role_id)
    assert standin.held() == []
