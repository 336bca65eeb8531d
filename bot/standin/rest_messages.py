"""REST routes for channels, messages, reactions and DMs (resources/channel.mdx,
resources/message.mdx, resources/user.mdx "Create DM")."""

from __future__ import annotations

from aiohttp import web

from bot.standin.context import DM_OPENS, NONCES, app_of, events_of, world_of
from bot.standin.httpkit import (
    NONCE_DEDUPED,
    ApiError,
    body_dict,
    form_error,
    json_response,
    no_content,
    snowflake_arg,
    unknown,
)
from bot.standin.limits import check_message
from bot.standin.model import Channel, Message
from bot.standin.outgoing import apply_edit, build_bot_message
from bot.standin.permissions import check_can_post, check_can_read


def channel_of(request: web.Request) -> Channel:
    channel_id = snowflake_arg(request, "channel_id", "Channel", 10003)
    channel = world_of(request).channels.get(channel_id)
    if channel is None:
        raise unknown("Channel", 10003)
    return channel


def message_in(request: web.Request, channel: Channel) -> Message:
    message_id = snowflake_arg(request, "message_id", "Message", 10008)
    msg = world_of(request).messages.get(message_id)
    if msg is None or msg.channel_id != channel.id:
        raise unknown("Message", 10008)
    return msg


async def create_dm(request: web.Request) -> web.Response:
    world = world_of(request)
    body = body_dict(request)
    try:
        user_id = int(body["recipient_id"])
    except (KeyError, ValueError, TypeError):
        raise form_error("recipient_id", "This field is required", "BASE_TYPE_REQUIRED") from None
    user = world.users.get(user_id)
    if user is None:
        raise unknown("User", 10013)
    if user.bot or user_id == world.bot_user_id:
        raise ApiError(400, 50007, "Cannot send messages to this user")
    if not any(user_id in g.members for g in world.guilds.values()):
        raise ApiError(400, 50007, "Cannot send messages to this user")
    if user_id not in world.dm_by_user:
        request.app[DM_OPENS].take()  # only opening a new DM channel counts
    return json_response(world.dm_channel(user_id).to_json(world.users))


async def get_channel(request: web.Request) -> web.Response:
    return json_response(channel_of(request).to_json(world_of(request).users))


async def typing(request: web.Request) -> web.Response:
    channel_of(request)
    return no_content()


async def list_messages(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_of(request)
    check_can_read(world, channel, world.bot_user_id)
    ids = list(world.channel_messages.get(channel.id, []))
    q = request.query
    try:
        limit = max(1, min(int(q.get("limit", "50")), 100))
        if "before" in q:
            ids = [i for i in ids if i < int(q["before"])]
        if "after" in q:
            after = int(q["after"])
            ids = [i for i in ids if i > after][:limit]
    except ValueError:
        raise ApiError(400, 50035, "Invalid Form Body") from None
    newest_first = sorted(ids, reverse=True)[:limit]
    readable = app_of(request).readable
    return json_response([readable(world.message_json(i)) for i in newest_first])


async def post_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_of(request)
    body = body_dict(request)
    check_message(body)
    if channel.guild_id is not None:
        reply = bool((body.get("message_reference") or {}).get("message_id"))
        check_can_post(world, channel, world.bot_user_id, tts=bool(body.get("tts")), reply=reply)
    if channel.type == 1 and channel.recipient_id is not None:
        recipient = world.users.get(channel.recipient_id)
        if recipient is None or recipient.dms_closed:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        if not any(recipient.id in g.members for g in world.guilds.values()):
            raise ApiError(403, 50007, "Cannot send messages to this user")  # no mutual guild
    nonces = request.app[NONCES]
    nonce = body.get("nonce")
    key = (world.bot_user_id, channel.id, str(nonce))
    enforced = nonce is not None and bool(body.get("enforce_nonce"))
    if enforced:
        earlier = nonces.earlier(key, world)
        if earlier is not None:
            NONCE_DEDUPED.set(True)
            return json_response(world.message_json(earlier))
    msg = build_bot_message(world, app_of(request).base_url, channel, body)
    events_of(request).message_created(msg)
    if enforced:
        nonces.remember(key, msg.id)
    return json_response(world.message_json(msg.id))


async def get_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_of(request)
    check_can_read(world, channel, world.bot_user_id)
    msg = message_in(request, channel)
    return json_response(app_of(request).readable(world.message_json(msg.id)))


async def patch_message(request: web.Request) -> web.Response:
    world = world_of(request)
    msg = message_in(request, channel_of(request))
    if msg.author_id != world.bot_user_id:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    return json_response(apply_edit(world, events_of(request), msg, body_dict(request)))


async def delete_message(request: web.Request) -> web.Response:
    events_of(request).message_deleted(message_in(request, channel_of(request)))
    return no_content()


async def put_reaction(request: web.Request) -> web.Response:
    bot_id = world_of(request).bot_user_id
    msg = message_in(request, channel_of(request))
    emoji = request.match_info["emoji"]
    if not emoji or len(emoji) > 100:
        raise ApiError(400, 10014, "Unknown Emoji")
    users = msg.reactions.setdefault(emoji, [])
    if bot_id not in users:
        users.append(bot_id)
        events_of(request).reaction(msg, bot_id, emoji, added=True)
    return no_content()


async def delete_own_reaction(request: web.Request) -> web.Response:
    bot_id = world_of(request).bot_user_id
    msg = message_in(request, channel_of(request))
    emoji = request.match_info["emoji"]
    users = msg.reactions.get(emoji, [])
    if bot_id in users:
        users.remove(bot_id)
        events_of(request).reaction(msg, bot_id, emoji, added=False)
    return no_content()


def setup_routes(api: web.Application) -> None:
    add = api.router.add_route
    add("GET", "/channels/{channel_id}", get_channel)
    add("POST", "/channels/{channel_id}/typing", typing)
    add("GET", "/channels/{channel_id}/messages", list_messages)
    add("POST", "/channels/{channel_id}/messages", post_message)
    add("GET", "/channels/{channel_id}/messages/{message_id}", get_message)
    add("PATCH", "/channels/{channel_id}/messages/{message_id}", patch_message)
    add("DELETE", "/channels/{channel_id}/messages/{message_id}", delete_message)
    reaction = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me"
    add("PUT", reaction, put_reaction)
    add("DELETE", reaction, delete_own_reaction)
