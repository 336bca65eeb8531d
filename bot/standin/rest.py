"""REST API v10: the middleware (auth, faults, rate limits, recording) and the guild routes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.standin import rest_messages
from bot.standin.faults import Answer
from bot.standin.httpkit import (
    PREFIX,
    REQUEST_BODY,
    STANDIN_KEY,
    ApiError,
    body_of,
    json_response,
    no_content,
    snowflake_arg,
    standin_of,
    unknown,
)
from bot.standin.limits import check_commands
from bot.standin.recorder import Recorded
from bot.standin.snowflake import now
from bot.standin.state import Guild, Json

if TYPE_CHECKING:
    from bot.standin.server import StandIn

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NO_AUTH_PREFIXES = ("/interactions/", "/webhooks/")
MANAGE_ROLES = 1 << 28


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
    standin = standin_of(request)
    template = _template(request)
    path = request.path[len(PREFIX) :] if request.path.startswith(PREFIX) else request.path
    route = f"{request.method} {template if template is not None else path}"
    body: Any = None
    extra: dict[str, str] = {}
    try:
        body = await _read_body(request)
        REQUEST_BODY.set(body)
        if template is None:
            raise ApiError(404, 0, "404: Not Found")
        if not path.startswith(NO_AUTH_PREFIXES):
            auth = request.headers.get("Authorization", "")
            token = auth[4:] if auth.startswith("Bot ") else None
            if token is None or not standin.token_ok(token):
                raise ApiError(401, 0, "401: Unauthorized")
        delay = standin.faults.take_delay(route)
        if delay:
            await asyncio.sleep(delay)
        fault = standin.faults.take_fault(route)
        if fault is not None:
            response: web.StreamResponse = _answer(fault)
        else:
            limited, extra = standin.rate_limits.check(route, _major(request))
            if limited is not None:
                response = _answer(limited)
            else:
                response = await handler(request)
                response.headers.update(extra)
    except ApiError as exc:
        response = json_response(exc.body(), exc.status, extra)
    standin.recorder.add(
        Recorded(
            method=request.method,
            route=route,
            path=path,
            json=body,
            status=response.status,
            at=now(),
            query=dict(request.query),
            headers={k: v for k, v in request.headers.items() if k.lower() == "x-audit-log-reason"},
        )
    )
    return response


# -- users, application, gateway -----------------------------------------------------------------


async def get_me(request: web.Request) -> web.Response:
    standin = standin_of(request)
    return json_response(standin.world.user_json(standin.bot_user_id))


async def get_user(request: web.Request) -> web.Response:
    world = standin_of(request).world
    user_id = snowflake_arg(request, "user_id", "User", 10013)
    if user_id not in world.users:
        raise unknown("User", 10013)
    return json_response(world.user_json(user_id))


async def get_application(request: web.Request) -> web.Response:
    return json_response(standin_of(request).application_json())


async def get_gateway(request: web.Request) -> web.Response:
    return json_response({"url": standin_of(request).ws_url})


async def get_gateway_bot(request: web.Request) -> web.Response:
    return json_response(
        {
            "url": standin_of(request).ws_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }
    )


# -- guilds, members, roles ----------------------------------------------------------------------


def guild_of(request: web.Request) -> Guild:
    world = standin_of(request).world
    guild_id = snowflake_arg(request, "guild_id", "Guild", 10004)
    guild = world.guilds.get(guild_id)
    if guild is None:
        raise unknown("Guild", 10004)
    return guild


def member_id_of(request: web.Request, guild: Guild) -> int:
    user_id = snowflake_arg(request, "user_id", "Member", 10007)
    if user_id not in guild.members:
        raise unknown("Member", 10007)
    return user_id


async def get_guild(request: web.Request) -> web.Response:
    guild = guild_of(request)
    counts = request.query.get("with_counts") in ("true", "1", "True")
    return json_response(standin_of(request).world.guild_json(guild.id, counts=counts))


async def get_member(request: web.Request) -> web.Response:
    guild = guild_of(request)
    user_id = member_id_of(request, guild)
    return json_response(standin_of(request).world.member_json(guild.id, user_id))


async def list_members(request: web.Request) -> web.Response:
    standin = standin_of(request)
    guild = guild_of(request)
    if not standin.members_intent_enabled():
        raise ApiError(403, 50001, "Missing Access")
    try:
        limit = int(request.query.get("limit", "1"))
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise ApiError(400, 50035, "Invalid Form Body") from None
    limit = max(1, min(limit, 1000))
    ids = sorted(uid for uid in guild.members if uid > after)[:limit]
    return json_response([standin.world.member_json(guild.id, uid) for uid in ids])


async def list_roles(request: web.Request) -> web.Response:
    guild = guild_of(request)
    return json_response([r.to_json() for r in guild.roles.values()])


async def list_channels(request: web.Request) -> web.Response:
    guild = guild_of(request)
    return json_response([c.to_json() for c in guild.channels.values()])


def check_can_manage(standin: StandIn, guild: Guild, role_id: int) -> None:
    world = standin.world
    role = guild.roles.get(role_id)
    if role is None:
        raise unknown("Role", 10011)
    bot_id = standin.bot_user_id
    perms = world.member_permissions(guild.id, bot_id)
    if not perms & MANAGE_ROLES or role.managed or role_id == guild.id:
        raise ApiError(403, 50013, "Missing Permissions")
    if world.top_role_position(guild.id, bot_id) <= role.position and bot_id != guild.owner_id:
        raise ApiError(403, 50013, "Missing Permissions")


async def put_member_role(request: web.Request) -> web.Response:
    standin = standin_of(request)
    guild = guild_of(request)
    user_id = member_id_of(request, guild)
    role_id = snowflake_arg(request, "role_id", "Role", 10011)
    check_can_manage(standin, guild, role_id)
    member = guild.members[user_id]
    if role_id not in member.roles or member.pending:
        if role_id not in member.roles:
            member.roles.append(role_id)
        member.pending = False  # giving any role bypasses membership screening, as on Discord
        standin.dispatch_member_update(guild.id, user_id)
    return no_content()


async def delete_member_role(request: web.Request) -> web.Response:
    standin = standin_of(request)
    guild = guild_of(request)
    user_id = member_id_of(request, guild)
    role_id = snowflake_arg(request, "role_id", "Role", 10011)
    check_can_manage(standin, guild, role_id)
    member = guild.members[user_id]
    if role_id in member.roles:
        member.roles.remove(role_id)
        standin.dispatch_member_update(guild.id, user_id)
    return no_content()


async def patch_member(request: web.Request) -> web.Response:
    standin = standin_of(request)
    guild = guild_of(request)
    user_id = member_id_of(request, guild)
    body = body_of(request) or {}
    member = guild.members[user_id]
    if "roles" in body and body["roles"] is not None:
        wanted = [int(r) for r in body["roles"]]
        for role_id in set(wanted) ^ set(member.roles):
            check_can_manage(standin, guild, role_id)
        member.roles = wanted
        if wanted:
            member.pending = False
    if "nick" in body:
        member.nick = body["nick"] or None
    standin.dispatch_member_update(guild.id, user_id)
    return json_response(standin.world.member_json(guild.id, user_id))


# -- application commands ------------------------------------------------------------------------


def _commands_store(request: web.Request) -> tuple[dict[int, Json], int | None]:
    standin = standin_of(request)
    app_id = snowflake_arg(request, "application_id", "Application", 10002)
    if app_id != standin.app_id:
        raise ApiError(403, 50001, "Missing Access")
    if "guild_id" in request.match_info:
        guild = guild_of(request)
        return guild.commands, guild.id
    return standin.world.global_commands, None


async def list_commands(request: web.Request) -> web.Response:
    store, _ = _commands_store(request)
    return json_response(list(store.values()))


async def put_commands(request: web.Request) -> web.Response:
    standin = standin_of(request)
    store, guild_id = _commands_store(request)
    body = body_of(request)
    if not isinstance(body, list) or not all(isinstance(c, dict) for c in body):
        raise ApiError(400, 50035, "Invalid Form Body")
    check_commands(body)
    by_key = {(c["name"], c["type"]): int(c["id"]) for c in store.values()}
    fresh: dict[int, Json] = {}
    for item in body:
        kind = int(item.get("type", 1))
        cid = by_key.get((item["name"], kind)) or standin.world.new_id()
        command: Json = {
            "id": str(cid),
            "type": kind,
            "application_id": str(standin.app_id),
            "name": item["name"],
            "name_localizations": item.get("name_localizations"),
            "description": item.get("description", ""),
            "description_localizations": item.get("description_localizations"),
            "options": item.get("options", []),
            "default_member_permissions": item.get("default_member_permissions"),
            "dm_permission": item.get("dm_permission", True),
            "nsfw": item.get("nsfw", False),
            "contexts": item.get("contexts"),
            "integration_types": item.get("integration_types", [0]),
            "version": str(standin.world.new_id()),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        fresh[cid] = command
    store.clear()
    store.update(fresh)
    return json_response(list(store.values()))


def setup_routes(api: web.Application) -> None:
    add = api.router.add_route
    # static paths first: aiohttp matches in registration order
    add("GET", "/users/@me", get_me)
    add("POST", "/users/@me/channels", rest_messages.create_dm)
    add("GET", "/users/{user_id}", get_user)
    add("GET", "/oauth2/applications/@me", get_application)
    add("GET", "/applications/@me", get_application)
    add("GET", "/gateway", get_gateway)
    add("GET", "/gateway/bot", get_gateway_bot)
    add("GET", "/guilds/{guild_id}", get_guild)
    add("GET", "/guilds/{guild_id}/members", list_members)
    add("GET", "/guilds/{guild_id}/members/{user_id}", get_member)
    add("PATCH", "/guilds/{guild_id}/members/{user_id}", patch_member)
    add("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", put_member_role)
    add("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", delete_member_role)
    add("GET", "/guilds/{guild_id}/roles", list_roles)
    add("GET", "/guilds/{guild_id}/channels", list_channels)
    add("GET", "/applications/{application_id}/commands", list_commands)
    add("PUT", "/applications/{application_id}/commands", put_commands)
    add("GET", "/applications/{application_id}/guilds/{guild_id}/commands", list_commands)
    add("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", put_commands)
    rest_messages.setup_routes(api)
    # last: anything else is Discord's 404 (and still recorded by the middleware)
    api.router.add_route("*", "/{tail:.*}", not_found, name="unknown-route")


async def not_found(request: web.Request) -> web.Response:
    raise ApiError(404, 0, "404: Not Found")


def build_api(standin: StandIn) -> web.Application:
    api = web.Application(middlewares=[api_middleware], client_max_size=64 * 1024 * 1024)
    api[STANDIN_KEY] = standin
    setup_routes(api)
    return api
