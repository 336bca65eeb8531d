"""REST routes for interactions: the callback (with its checks per interaction type) and the
interaction webhooks for followups and @original (interactions/receiving-and-responding.mdx)."""

from __future__ import annotations

from aiohttp import web

from bot.standin.command_limits import check_choices
from bot.standin.components import check_modal
from bot.standin.context import app_of, events_of, interactions_of, world_of
from bot.standin.httpkit import (
    ApiError,
    body_dict,
    form_error,
    json_response,
    no_content,
    unknown,
)
from bot.standin.interactions import Interaction
from bot.standin.limits import check_message
from bot.standin.model import Json, Message
from bot.standin.outgoing import EPHEMERAL, LOADING, apply_edit, build_bot_message


def interaction_by_token(request: web.Request) -> Interaction:
    interactions = interactions_of(request)
    token = request.match_info["interaction_token"]
    if "interaction_id" in request.match_info:
        try:
            ix = interactions.by_id.get(int(request.match_info["interaction_id"]))
        except ValueError:
            ix = None
        if ix is not None and ix.token != token:
            ix = None
    else:
        app = request.match_info.get("application_id", "")
        ix = interactions.by_token.get(token) if app == str(app_of(request).id) else None
    if ix is None or ix.token_expired():
        raise ApiError(
            404,
            10062 if "interaction_id" in request.match_info else 10015,
            "Unknown interaction" if "interaction_id" in request.match_info else "Unknown Webhook",
        )
    return ix


def interaction_message(
    request: web.Request, ix: Interaction, body: Json, *, msg_type: int, allow_empty: bool = False
) -> Message:
    world, app = world_of(request), app_of(request)
    return build_bot_message(
        world,
        app.base_url,
        world.channels[ix.channel_id],
        body,
        webhook_id=app.id,
        interaction_id=ix.id,
        type=msg_type,
        allow_empty=allow_empty,
    )


async def interaction_callback(request: web.Request) -> web.Response:
    world, events = world_of(request), events_of(request)
    ix = interaction_by_token(request)
    body = body_dict(request)
    if ix.responded:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    if ix.expired_for_callback(interactions_of(request).window):
        raise ApiError(404, 10062, "Unknown interaction")
    kind = int(body.get("type", 0))
    data = body.get("data") or {}
    check_callback_type(ix, kind, data)
    message: Message | None = None
    msg_type = 20 if ix.type == 2 else 0
    if kind == 4:
        check_message(data)
        message = interaction_message(request, ix, data, msg_type=msg_type)
    elif kind == 5:
        flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
        message = interaction_message(
            request, ix, {"flags": flags}, msg_type=msg_type, allow_empty=True
        )
    elif kind == 8:
        # "autocomplete choices (max of 25 choices)"
        check_choices(list(data.get("choices") or []), "data.choices")
    elif kind == 7 and ix.message_id is not None and ix.message_id in world.messages:
        apply_edit(world, events, world.messages[ix.message_id], data)
    elif kind not in (1, 6, 7, 8, 9, 10, 12):
        raise form_error("type", "Value must be one of known interaction callback types.")
    if message is not None:
        events.message_created(message)
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
        answer["resource"]["message"] = world.message_json(message.id)
    elif kind == 7 and ix.message_id in world.messages:
        answer["resource"]["message"] = world.message_json(ix.message_id)
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


def webhook_message(request: web.Request, ix: Interaction) -> Message:
    world = world_of(request)
    raw = request.match_info["message_id"]
    if raw == "@original":
        # for a component click answered with an update, @original is the clicked message
        message_id = ix.original_message_id or ix.message_id
    else:
        message_id = int(raw) if raw.isdigit() else None
    msg = world.messages.get(message_id) if message_id is not None else None
    if msg is None or (msg.interaction_id != ix.id and msg.id != ix.message_id):
        raise unknown("Message", 10008)
    return msg


async def webhook_execute(request: web.Request) -> web.Response:
    world, events = world_of(request), events_of(request)
    ix = interaction_by_token(request)
    body = body_dict(request)
    check_message(body)
    if not ix.responded:
        raise unknown("Webhook", 10015)
    original = world.messages.get(ix.original_message_id or 0)
    if original is not None and original.flags & LOADING:
        # the first followup after a deferral replaces the "thinking..." message, as on Discord
        data = apply_edit(world, events, original, body)
    else:
        message = interaction_message(request, ix, body, msg_type=0)
        events.message_created(message)
        data = world.message_json(message.id)
    ix.followups.append(data)
    if request.query.get("wait") in ("true", "1", "True"):
        return json_response(data)
    return no_content()


async def webhook_get_message(request: web.Request) -> web.Response:
    ix = interaction_by_token(request)
    return json_response(world_of(request).message_json(webhook_message(request, ix).id))


async def webhook_edit_message(request: web.Request) -> web.Response:
    ix = interaction_by_token(request)
    body = body_dict(request)
    msg = webhook_message(request, ix)
    ix.edits.append(body)
    return json_response(apply_edit(world_of(request), events_of(request), msg, body))


async def webhook_delete_message(request: web.Request) -> web.Response:
    ix = interaction_by_token(request)
    events_of(request).message_deleted(webhook_message(request, ix))
    return no_content()


def setup_routes(api: web.Application) -> None:
    add = api.router.add_route
    add("POST", "/interactions/{interaction_id}/{interaction_token}/callback", interaction_callback)
    add("POST", "/webhooks/{application_id}/{interaction_token}", webhook_execute)
    msg_path = "/webhooks/{application_id}/{interaction_token}/messages/{message_id}"
    add("GET", msg_path, webhook_get_message)
    add("PATCH", msg_path, webhook_edit_message)
    add("DELETE", msg_path, webhook_delete_message)
