"""REST routes for channels, messages, DMs, interaction callbacks and interaction webhooks."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.standin.command_limits import check_choices
from bot.standin.components import check_modal
from bot.standin.httpkit import (
    ApiError,
    body_of,
    form_error,
    json_response,
    no_content,
    snowflake_arg,
    standin_of,
    unknown,
)
from bot.standin.interactions import Interaction
from bot.standin.limits import check_message
from bot.standin.permissions import check_can_post, check_can_read
from bot.standin.state import Channel, Json, Message

if TYPE_CHECKING:
    from bot.standin.server import StandIn

NONCE_WINDOW = 5 * 60.0  # Discord dedupes enforce_nonce messages for "a few minutes"
USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EPHEMERAL = 1 << 6
LOADING = 1 << 7


def _standin(request: web.Request) -> StandIn:
    return standin_of(request)


def _body(request: web.Request) -> Json:
    body = body_of(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, 50035, "Invalid Form Body")
    return body


def channel_of(request: web.Request) -> Channel:
    world = _standin(request).world
    channel_id = snowflake_arg(request, "channel_id", "Channel", 10003)
    channel = world.channels.get(channel_id)
    if channel is None:
        raise unknown("Channel", 10003)
    return channel


def resolve_mentions(
    standin: StandIn, content: str, allowed: Json | None, reply_author: int | None
) -> tuple[list[int], list[int], bool]:
    """Users, roles and @everyone that the content pings, limited by allowed_mentions."""
    users = [int(u) for u in USER_MENTION.findall(content)]
    roles = [int(r) for r in ROLE_MENTION.findall(content)]
    everyone = "@everyone" in content or "@here" in content
    replied_user = True
    if allowed is not None:
        parse = allowed.get("parse") or []
        allowed_users = {int(u) for u in allowed.get("users") or []}
        allowed_roles = {int(r) for r in allowed.get("roles") or []}
        users = [u for u in users if "users" in parse or u in allowed_users]
        roles = [r for r in roles if "roles" in parse or r in allowed_roles]
        everyone = everyone and "everyone" in parse
        replied_user = bool(allowed.get("replied_user", False))
    if reply_author is not None and replied_user and reply_author not in users:
        users.append(reply_author)
    users = [u for u in dict.fromkeys(users) if u in standin.world.users]
    return users, list(dict.fromkeys(roles)), everyone


def check_message_body(body: Json) -> None:
    check_message(body)


def _attachments(standin: StandIn, body: Json) -> list[Json]:
    out = []
    for item in body.get("_files") or []:
        aid = standin.world.new_id()
        name = item.get("filename") or "file"
        url = f"{standin.base_url}/cdn/attachments/{aid}/{name}"
        out.append(
            {
                "id": str(aid),
                "filename": name,
                "size": item.get("size", 0),
                "url": url,
                "proxy_url": url,
            }
        )
    return out


def build_bot_message(standin: StandIn, channel: Channel, body: Json, **extra: Any) -> Message:
    """A message authored by the bot from a Discord-shaped create body (not yet stored)."""
    world = standin.world
    content = body.get("content") or ""
    attachments = _attachments(standin, body)
    has_payload = content or body.get("embeds") or body.get("components") or attachments
    if not has_payload and not body.get("sticker_ids") and not extra.get("allow_empty"):
        raise ApiError(400, 50006, "Cannot send an empty message")
    reference_id: int | None = None
    reply_author: int | None = None
    ref = body.get("message_reference")
    if ref and ref.get("message_id"):
        reference_id = int(ref["message_id"])
        target = world.messages.get(reference_id)
        if target is None:
            if ref.get("fail_if_not_exists", True):
                raise form_error(
                    "message_reference", "Unknown message", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"
                )
            reference_id = None
        else:
            reply_author = target.author_id
    allowed = body.get("allowed_mentions")
    users, roles, everyone = resolve_mentions(standin, content, allowed, reply_author)
    return Message(
        id=world.new_id(),
        channel_id=channel.id,
        author_id=standin.bot_user_id,
        content=content,
        guild_id=channel.guild_id,
        nonce=body.get("nonce"),
        tts=bool(body.get("tts")),
        embeds=list(body.get("embeds") or []),
        components=list(body.get("components") or []),
        attachments=attachments,
        mentions=users,
        mention_roles=roles,
        mention_everyone=everyone,
        reference_id=reference_id,
        allowed_mentions=allowed,
        flags=int(body.get("flags") or 0),
        webhook_id=extra.get("webhook_id"),
        interaction_id=extra.get("interaction_id"),
        type=int(extra.get("type", 0)),
    )


async def create_dm(request: web.Request) -> web.Response:
    standin = _standin(request)
    world = standin.world
    body = _body(request)
    try:
        user_id = int(body["recipient_id"])
    except (KeyError, ValueError, TypeError):
        raise form_error("recipient_id", "This field is required", "BASE_TYPE_REQUIRED") from None
    user = world.users.get(user_id)
    if user is None:
        raise unknown("User", 10013)
    if user.bot or user_id == standin.bot_user_id:
        raise ApiError(400, 50007, "Cannot send messages to this user")
    if not any(user_id in g.members for g in world.guilds.values()):
        raise ApiError(400, 50007, "Cannot send messages to this user")
    if user_id not in world.dm_by_user:
        standin.dm_opens.take()  # only opening a new DM channel counts
    channel = standin.dm_channel(user_id)
    return json_response(channel.to_json(world.users))


async def get_channel(request: web.Request) -> web.Response:
    channel = channel_of(request)
    return json_response(channel.to_json(_standin(request).world.users))


async def typing(request: web.Request) -> web.Response:
    channel_of(request)
    return no_content()


async def list_messages(request: web.Request) -> web.Response:
    standin = _standin(request)
    channel = channel_of(request)
    check_can_read(standin.world, channel, standin.bot_user_id)
    ids = list(standin.world.channel_messages.get(channel.id, []))
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
    return json_response([standin.readable(standin.world.message_json(i)) for i in newest_first])


async def post_message(request: web.Request) -> web.Response:
    standin = _standin(request)
    world = standin.world
    channel = channel_of(request)
    body = _body(request)
    check_message_body(body)
    if channel.guild_id is not None:
        reply = bool((body.get("message_reference") or {}).get("message_id"))
        check_can_post(world, channel, standin.bot_user_id, tts=bool(body.get("tts")), reply=reply)
    if channel.type == 1 and channel.recipient_id is not None:
        recipient = world.users.get(channel.recipient_id)
        if recipient is None or recipient.dms_closed:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        if not any(recipient.id in g.members for g in world.guilds.values()):
            raise ApiError(403, 50007, "Cannot send messages to this user")  # no mutual guild
    nonce = body.get("nonce")
    key = (standin.bot_user_id, channel.id, str(nonce))
    if nonce is not None and body.get("enforce_nonce"):
        seen = standin.nonces.get(key)
        if (
            seen is not None
            and time.monotonic() - seen[1] < NONCE_WINDOW
            and seen[0] in world.messages
        ):
            return json_response(world.message_json(seen[0]))
    msg = build_bot_message(standin, channel, body)
    standin.store_and_dispatch(msg)
    if nonce is not None and body.get("enforce_nonce"):
        standin.nonces[key] = (msg.id, time.monotonic())
    return json_response(world.message_json(msg.id))


def message_in(request: web.Request, channel: Channel) -> Message:
    world = _standin(request).world
    message_id = snowflake_arg(request, "message_id", "Message", 10008)
    msg = world.messages.get(message_id)
    if msg is None or msg.channel_id != channel.id:
        raise unknown("Message", 10008)
    return msg


async def get_message(request: web.Request) -> web.Response:
    channel = channel_of(request)
    standin = _standin(request)
    check_can_read(standin.world, channel, standin.bot_user_id)
    msg = message_in(request, channel)
    return json_response(standin.readable(standin.world.message_json(msg.id)))


def apply_edit(standin: StandIn, msg: Message, body: Json) -> Json:
    check_message_body(body)
    if "content" in body:
        msg.content = body["content"] or ""
        msg.mentions, msg.mention_roles, msg.mention_everyone = resolve_mentions(
            standin, msg.content, body.get("allowed_mentions", msg.allowed_mentions), None
        )
    if "embeds" in body:
        msg.embeds = list(body["embeds"] or [])
    if "components" in body:
        msg.components = list(body["components"] or [])
    if "flags" in body and body["flags"] is not None:
        msg.flags = int(body["flags"]) | (msg.flags & EPHEMERAL)
    msg.flags &= ~LOADING
    msg.edited_at = standin.world.now()
    data = standin.world.message_json(msg.id)
    if not msg.flags & EPHEMERAL:
        standin.dispatch_message_update(msg)
    return data


async def patch_message(request: web.Request) -> web.Response:
    standin = _standin(request)
    channel = channel_of(request)
    msg = message_in(request, channel)
    if msg.author_id != standin.bot_user_id:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    return json_response(apply_edit(standin, msg, _body(request)))


async def delete_message(request: web.Request) -> web.Response:
    standin = _standin(request)
    channel = channel_of(request)
    msg = message_in(request, channel)
    standin.delete_and_dispatch(msg)
    return no_content()


async def put_reaction(request: web.Request) -> web.Response:
    standin = _standin(request)
    channel = channel_of(request)
    msg = message_in(request, channel)
    emoji = request.match_info["emoji"]
    if not emoji or len(emoji) > 100:
        raise ApiError(400, 10014, "Unknown Emoji")
    users = msg.reactions.setdefault(emoji, [])
    if standin.bot_user_id not in users:
        users.append(standin.bot_user_id)
        standin.dispatch_reaction(msg, standin.bot_user_id, emoji, added=True)
    return no_content()


async def delete_own_reaction(request: web.Request) -> web.Response:
    standin = _standin(request)
    channel = channel_of(request)
    msg = message_in(request, channel)
    users = msg.reactions.get(request.match_info["emoji"], [])
    if standin.bot_user_id in users:
        users.remove(standin.bot_user_id)
        standin.dispatch_reaction(
            msg, standin.bot_user_id, request.match_info["emoji"], added=False
        )
    return no_content()


# -- interactions ---------------------------------------------------------------------------------


def interaction_by_token(request: web.Request) -> Interaction:
    standin = _standin(request)
    token = request.match_info["interaction_token"]
    if "interaction_id" in request.match_info:
        try:
            ix = standin.interactions.get(int(request.match_info["interaction_id"]))
        except ValueError:
            ix = None
        if ix is not None and ix.token != token:
            ix = None
    else:
        app = request.match_info.get("application_id", "")
        ix = standin.interactions_by_token.get(token) if app == str(standin.app_id) else None
    if ix is None or ix.token_expired():
        raise ApiError(
            404,
            10062 if "interaction_id" in request.match_info else 10015,
            "Unknown interaction" if "interaction_id" in request.match_info else "Unknown Webhook",
        )
    return ix


def _interaction_message(
    standin: StandIn, ix: Interaction, body: Json, *, msg_type: int, allow_empty: bool = False
) -> Message:
    channel = standin.world.channels[ix.channel_id]
    return build_bot_message(
        standin,
        channel,
        body,
        webhook_id=standin.app_id,
        interaction_id=ix.id,
        type=msg_type,
        allow_empty=allow_empty,
    )


async def interaction_callback(request: web.Request) -> web.Response:
    standin = _standin(request)
    ix = interaction_by_token(request)
    body = _body(request)
    if ix.responded:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    if ix.expired_for_callback(standin.interaction_window):
        raise ApiError(404, 10062, "Unknown interaction")
    kind = int(body.get("type", 0))
    data = body.get("data") or {}
    check_callback_type(ix, kind, data)
    message: Message | None = None
    msg_type = 20 if ix.type == 2 else 0
    if kind == 4:
        check_message_body(data)
        message = _interaction_message(standin, ix, data, msg_type=msg_type)
    elif kind == 5:
        flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
        message = _interaction_message(
            standin, ix, {"flags": flags}, msg_type=msg_type, allow_empty=True
        )
    elif kind == 8:
        # "autocomplete choices (max of 25 choices)"
        check_choices(list(data.get("choices") or []), "data.choices")
    elif kind == 7 and ix.message_id is not None and ix.message_id in standin.world.messages:
        apply_edit(standin, standin.world.messages[ix.message_id], data)
    elif kind not in (1, 6, 7, 8, 9, 10, 12):
        raise form_error("type", "Value must be one of known interaction callback types.")
    if message is not None:
        standin.store_and_dispatch(message)
        ix.original_message_id = message.id
    ix.set_response(body)
    if request.query.get("with_response") not in ("1", "true", "True"):
        return no_content()
    answer: Json = {
        "interaction": {
            "id": str(ix.id),
            "type": ix.type,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message and message.flags & EPHEMERAL),
        },
        "resource": {"type": kind},
    }
    if message is not None:
        answer["interaction"]["response_message_id"] = str(message.id)
        answer["resource"]["message"] = standin.world.message_json(message.id)
    elif kind == 7 and ix.message_id in standin.world.messages:
        answer["resource"]["message"] = standin.world.message_json(ix.message_id)
    return json_response(answer)


COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 3, 4, 5


def check_callback_type(ix: Interaction, kind: int, data: Json) -> None:
    """interactions/receiving-and-responding.mdx "Interaction Callback Type": 6 and 7 "Only valid
    for component-based interactions" (a modal submitted from a component too); 8 answers
    autocomplete only; 9 is "Not available for MODAL_SUBMIT and PING interactions"."""
    from_component = ix.type == COMPONENT or (ix.type == MODAL_SUBMIT and ix.message_id)
    if kind in (6, 7) and not from_component:
        raise form_error("type", "Interaction response type is not valid for this interaction.")
    if (kind == 8) != (ix.type == AUTOCOMPLETE):
        raise form_error("type", "Interaction response type is not valid for this interaction.")
    if kind == 9:
        if ix.type in (1, MODAL_SUBMIT):
            raise form_error("type", "Interaction response type is not valid for this interaction.")
        check_modal(data)


def _webhook_message(request: web.Request, ix: Interaction) -> Message:
    standin = _standin(request)
    raw = request.match_info["message_id"]
    if raw == "@original":
        # for a component click answered with an update, @original is the clicked message
        message_id = ix.original_message_id or ix.message_id
    else:
        message_id = int(raw) if raw.isdigit() else None
    msg = standin.world.messages.get(message_id) if message_id is not None else None
    if msg is None or (msg.interaction_id != ix.id and msg.id != ix.message_id):
        raise unknown("Message", 10008)
    return msg


async def webhook_execute(request: web.Request) -> web.Response:
    standin = _standin(request)
    ix = interaction_by_token(request)
    body = _body(request)
    check_message_body(body)
    if not ix.responded:
        raise unknown("Webhook", 10015)
    original = standin.world.messages.get(ix.original_message_id or 0)
    if original is not None and original.flags & LOADING:
        # the first followup after a deferral replaces the "thinking..." message, as on Discord
        data = apply_edit(standin, original, body)
    else:
        message = _interaction_message(standin, ix, body, msg_type=0)
        standin.store_and_dispatch(message)
        data = standin.world.message_json(message.id)
    ix.followups.append(data)
    if request.query.get("wait") in ("true", "1", "True"):
        return json_response(data)
    return no_content()


async def webhook_get_message(request: web.Request) -> web.Response:
    ix = interaction_by_token(request)
    return json_response(_standin(request).world.message_json(_webhook_message(request, ix).id))


async def webhook_edit_message(request: web.Request) -> web.Response:
    standin = _standin(request)
    ix = interaction_by_token(request)
    body = _body(request)
    msg = _webhook_message(request, ix)
    ix.edits.append(body)
    return json_response(apply_edit(standin, msg, body))


async def webhook_delete_message(request: web.Request) -> web.Response:
    standin = _standin(request)
    ix = interaction_by_token(request)
    standin.delete_and_dispatch(_webhook_message(request, ix))
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
    add("POST", "/interactions/{interaction_id}/{interaction_token}/callback", interaction_callback)
    add("POST", "/webhooks/{application_id}/{interaction_token}", webhook_execute)
    msg_path = "/webhooks/{application_id}/{interaction_token}/messages/{message_id}"
    add("GET", msg_path, webhook_get_message)
    add("PATCH", msg_path, webhook_edit_message)
    add("DELETE", msg_path, webhook_delete_message)
