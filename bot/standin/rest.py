"""REST API v10: the middleware (auth, faults, rate limits, recording) and the route table."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.standin import rest_commands, rest_guilds, rest_interactions, rest_messages
from bot.standin.application import Application
from bot.standin.commands import CommandCreates
from bot.standin.context import (
    APP,
    COMMAND_CREATES,
    DM_OPENS,
    EVENTS,
    FAULTS,
    HOLDS,
    INTERACTIONS,
    NONCES,
    RATE_LIMITS,
    RECORDER,
    WORLD,
)
from bot.standin.events import Events
from bot.standin.faults import Faults
from bot.standin.holds import Holds
from bot.standin.httpkit import (
    NONCE_DEDUPED,
    PREFIX,
    REQUEST_BODY,
    ApiError,
    json_response,
)
from bot.standin.interactions import Interactions
from bot.standin.model import Json
from bot.standin.outgoing import Nonces
from bot.standin.ratelimits import Answer, DmOpens, RateLimits
from bot.standin.recorder import Recorded, Recorder
from bot.standin.snowflake import now
from bot.standin.state import World

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NO_AUTH_PREFIXES = ("/interactions/", "/webhooks/")


async def _read_body(request: web.Request) -> Any:
    if not request.body_exists:
        return None
    if request.content_type.startswith("multipart/"):
        # discord.py sends files as multipart with the JSON in "payload_json"
        payload: Any = None
        files: list[Json] = []
        async for part in await request.multipart():
            name = getattr(part, "name", None)
            data = await part.read()  # type: ignore[union-attr]
            if name == "payload_json":
                payload = json.loads(data)
            else:
                files.append(
                    {"name": name, "filename": getattr(part, "filename", None), "size": len(data)}
                )
        if isinstance(payload, dict):
            payload["_files"] = files
        return payload
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None


def _template(request: web.Request) -> str | None:
    route = request.match_info.route
    resource = route.resource
    if resource is None or resource.name == "unknown-route":
        return None
    canonical = resource.canonical
    return canonical[len(PREFIX) :] if canonical.startswith(PREFIX) else canonical


def _major(request: web.Request) -> str:
    info = request.match_info
    for key in ("channel_id", "guild_id"):
        if key in info:
            return f"{key}={info[key]}"
    if "interaction_token" in info:
        return f"token={info['interaction_token']}"
    return ""


def _answer(answer: Answer) -> web.Response:
    return json_response(answer.body, answer.status, answer.headers)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    app = request.app
    template = _template(request)
    path = request.path[len(PREFIX) :] if request.path.startswith(PREFIX) else request.path
    route = f"{request.method} {template if template is not None else path}"
    concrete = f"{request.method} {path}"
    body: Any = None
    extra: dict[str, str] = {}
    carried_out = False
    NONCE_DEDUPED.set(False)  # one task serves a keep-alive connection's requests in turn
    try:
        body = await _read_body(request)
        REQUEST_BODY.set(body)
        if template is None:
            raise ApiError(404, 0, "404: Not Found")
        if not path.startswith(NO_AUTH_PREFIXES):
            auth = request.headers.get("Authorization", "")
            token = auth[4:] if auth.startswith("Bot ") else None
            if token is None or not app[APP].token_ok(token):
                raise ApiError(401, 0, "401: Unauthorized")
        delay = app[FAULTS].take_delay(route, concrete)
        if delay:
            await asyncio.sleep(delay)
        fault = app[FAULTS].take_fault(route, concrete)
        if fault is not None:
            response: web.StreamResponse = _answer(fault)
        else:
            limited, extra = app[RATE_LIMITS].check(route, _major(request))
            if limited is not None:
                response = _answer(limited)
            else:
                response = await handler(request)
                response.headers.update(extra)
                carried_out = response.status < 300
    except ApiError as exc:
        response = json_response(exc.body(), exc.status, extra)
    hold = app[HOLDS].take(route, concrete) if carried_out else None
    recorded = app[RECORDER].add(
        Recorded(
            method=request.method,
            route=route,
            path=path,
            json=body,
            status=response.status,
            at=now(),
            query=dict(request.query),
            headers={k: v for k, v in request.headers.items() if k.lower() == "x-audit-log-reason"},
            held=hold is not None,
            code=_error_code(response),
            deduped=NONCE_DEDUPED.get(),
        )
    )
    if hold is not None:
        # recorded above, as carried out; the answer waits (a client killed meanwhile never
        # learns whether it took effect)
        await app[HOLDS].keep(recorded, hold)
    return response


def _error_code(response: web.StreamResponse) -> int | None:
    """The Discord error code in an error answer's JSON body, as the client reads it."""
    if response.status < 400 or not isinstance(response, web.Response):
        return None
    body = response.body
    if not isinstance(body, bytes | bytearray):
        return None
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def setup_routes(api: web.Application) -> None:
    add = api.router.add_route
    # static paths first: aiohttp matches in registration order
    add("POST", "/users/@me/channels", rest_messages.create_dm)
    rest_guilds.setup_routes(api)
    rest_commands.setup_routes(api)
    rest_messages.setup_routes(api)
    rest_interactions.setup_routes(api)
    # last: anything else is Discord's 404 (and still recorded by the middleware)
    api.router.add_route("*", "/{tail:.*}", not_found, name="unknown-route")


async def not_found(request: web.Request) -> web.Response:
    raise ApiError(404, 0, "404: Not Found")


def build_api(
    *,
    world: World,
    app: Application,
    events: Events,
    interactions: Interactions,
    command_creates: CommandCreates,
    dm_opens: DmOpens,
    nonces: Nonces,
    faults: Faults,
    holds: Holds,
    rate_limits: RateLimits,
    recorder: Recorder,
) -> web.Application:
    """The /api/v10 application; each part goes under its own key for the handlers to take."""
    api = web.Application(middlewares=[api_middleware], client_max_size=64 * 1024 * 1024)
    api[WORLD], api[APP], api[EVENTS] = world, app, events
    api[INTERACTIONS], api[COMMAND_CREATES], api[DM_OPENS] = interactions, command_creates, dm_opens
    api[NONCES], api[FAULTS], api[RATE_LIMITS], api[RECORDER] = (
        nonces,
        faults,
        rate_limits,
        recorder,
    )
    api[HOLDS] = holds
    setup_routes(api)
    return api
