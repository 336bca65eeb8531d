"""DiscordActions: the outbox's hands, over discord.py's real HTTP client and the stand-in."""

from __future__ import annotations

import pytest

from bot.client.actions import DiscordActions
from bot.service.actions import CANNOT_DM, MISSING_PERMISSIONS, ActionFailed, Verdict
from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import BareClient

ROLE_PUT = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
MESSAGE_POST = "POST /channels/{channel_id}/messages"
CREATE_DM = "POST /users/@me/channels"
GET_MEMBER = "GET /guilds/{guild_id}/members/{user_id}"


@pytest.fixture
def expected() -> list[tuple[int, int]]:
    return []


@pytest.fixture
def actions(client: BareClient, expected: list[tuple[int, int]]) -> DiscordActions:
    return DiscordActions(client, lambda g, u: expected.append((g, u)))


async def test_role_changes_apply_and_announce_their_echo(
    standin: StandIn, world: SampleWorld, actions: DiscordActions, expected: list
) -> None:
    guild, uid, role = world.guild_id, world.member_ids[0], world.follow_back_role_id
    assert not await actions.has_role(guild, uid, role)

    await actions.add_role(guild, uid, role, "follow back")
    assert role in standin.member_roles(guild, uid)
    assert await actions.has_role(guild, uid, role)
    await actions.add_role(guild, uid, role, "again")  # safe to repeat
    assert role in standin.member_roles(guild, uid)

    await actions.remove_role(guild, uid, role, "unfollow")
    assert role not in standin.member_roles(guild, uid)
    assert not await actions.has_role(guild, uid, role)
    assert expected == [(guild, uid)] * 3  # every change, before it was made


async def test_a_repeated_dm_nonce_returns_the_first_message(
    standin: StandIn, world: SampleWorld, actions: DiscordActions
) -> None:
    uid = world.member_ids[0]
    first = await actions.send_dm(uid, "hello", "fb-1")
    again = await actions.send_dm(uid, "hello", "fb-1")
    other = await actions.send_dm(uid, "hello", "fb-2")
    assert first == again != other
    (post, *_) = standin.recorder.requests("POST", MESSAGE_POST)
    assert post.json["nonce"] == "fb-1" and post.json.get("enforce_nonce") is True
    assert post.json["allowed_mentions"]["parse"] == []


async def test_a_reply_references_the_message_and_pings_no_one(
    standin: StandIn, world: SampleWorld, actions: DiscordActions
) -> None:
    said = await standin.say(world.general_channel_id, world.member_ids[0], "hi @everyone")
    message_id = int(said["id"])
    reply_id = await actions.send_reply(world.general_channel_id, message_id, "thanks!", "fb-7")
    assert reply_id != message_id
    post = standin.recorder.requests("POST", MESSAGE_POST)[-1]
    assert post.json["message_reference"]["message_id"] == message_id
    assert post.json["allowed_mentions"]["parse"] == []
    assert post.json["allowed_mentions"].get("replied_user", False) is False  # Discord default


async def test_closed_dms_become_a_give_up_with_code_50007(
    standin: StandIn, world: SampleWorld, actions: DiscordActions
) -> None:
    standin.faults.fail(MESSAGE_POST, 403, code=CANNOT_DM, message="Cannot send messages")
    with pytest.raises(ActionFailed) as caught:
        await actions.send_dm(world.member_ids[0], "hello", "fb-1")
    assert (caught.value.status, caught.value.code) == (403, CANNOT_DM)
    assert caught.value.verdict is Verdict.GIVE_UP
    assert "Cannot send messages" in caught.value.message


async def test_create_dm_refusal_is_also_code_50007(
    standin: StandIn, world: SampleWorld, actions: DiscordActions
) -> None:
    standin.faults.fail(CREATE_DM, 400, code=CANNOT_DM, message="Cannot send messages")
    with pytest.raises(ActionFailed) as caught:
        await actions.send_dm(world.member_ids[0], "hello", "fb-1")
    assert (caught.value.status, caught.value.code) == (400, CANNOT_DM)
    assert caught.value.verdict is Verdict.GIVE_UP
    assert standin.recorder.requests("POST", MESSAGE_POST) == []


async def test_missing_permissions_on_a_role_change(
    standin: StandIn, world: SampleWorld, actions: DiscordActions
) -> None:
    standin.faults.fail(ROLE_PUT, 403, code=MISSING_PERMISSIONS, message="Missing Permissions")
    with pytest.raises(ActionFailed) as caught:
        await actions.add_role(world.guild_id, world.member_ids[0], world.follow_back_role_id, "")
    assert (caught.value.status, caught.value.code) == (403, MISSING_PERMISSIONS)
    assert caught.value.verdict is Verdict.GIVE_UP
    assert len(standin.recorder.requests("PUT", ROLE_PUT)) == 1  # never repeated


async def test_a_rate_limit_in_a_response_is_retried_by_discord_py(
    standin: StandIn, world: SampleWorld, actions: DiscordActions
) -> None:
    standin.faults.fail(ROLE_PUT, 429, retry_after=0.05)
    await actions.add_role(world.guild_id, world.member_ids[0], world.follow_back_role_id, "")
    assert [r.status for r in standin.recorder.requests("PUT", ROLE_PUT)] == [429, 204]


async def test_unknown_member_on_has_role(
    standin: StandIn, world: SampleWorld, actions: DiscordActions
) -> None:
    with pytest.raises(ActionFailed) as caught:
        await actions.has_role(world.guild_id, 987654321, world.follow_back_role_id)
    assert caught.value.status == 404 and caught.value.code == 10007
    assert caught.value.verdict is Verdict.GIVE_UP
