"""REST routes for the bot user, the application, the gateway URL, guilds, members and roles."""

from __future__ import annotations

from aiohttp import web

from bot.standin.context import app_of, events_of, world_of
from bot.standin.httpkit import (
    ApiError,
    body_of,
    json_response,
    no_content,
    snowflake_arg,
    unknown,
)
from bot.standin.model import Guild
from bot.standin.state import World

MANAGE_ROLES = 1 << 28

# -- users, application, gateway -----------------------------------------------------------------


async def get_me(request: web.Request) -> web.Response:
    world = world_of(request)
    return json_response(world.user_json(world.bot_user_id))


async def get_user(request: web.Request) -> web.Response:
    world = world_of(request)
    user_id = snowflake_arg(request, "user_id", "User", 10013)
    if user_id not in world.users:
        raise unknown("User", 10013)
    return json_response(world.user_json(user_id))


async def get_application(request: web.Request) -> web.Response:
    return json_response(app_of(request).to_json(world_of(request)))


async def get_gateway(request: web.Request) -> web.Response:
    return json_response({"url": app_of(request).ws_url})


async def get_gateway_bot(request: web.Request) -> web.Response:
    return json_response(
        {
            "url": app_of(request).ws_url,
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
    world = world_of(request)
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
    return json_response(world_of(request).guild_json(guild.id, counts=counts))


async def get_member(request: web.Request) -> web.Response:
    guild = guild_of(request)
    user_id = member_id_of(request, guild)
    return json_response(world_of(request).member_json(guild.id, user_id))


async def list_members(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = guild_of(request)
    if not app_of(request).members_intent_enabled():
        raise ApiError(403, 50001, "Missing Access")
    try:
        limit = int(request.query.get("limit", "1"))
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise ApiError(400, 50035, "Invalid Form Body") from None
    limit = max(1, min(limit, 1000))
    ids = sorted(uid for uid in guild.members if uid > after)[:limit]
    return json_response([world.member_json(guild.id, uid) for uid in ids])


async def list_roles(request: web.Request) -> web.Response:
    guild = guild_of(request)
    return json_response([r.to_json() for r in guild.roles.values()])


async def list_channels(request: web.Request) -> web.Response:
    guild = guild_of(request)
    return json_response([c.to_json() for c in guild.channels.values()])


def check_can_manage(world: World, guild: Guild, role_id: int) -> None:
    role = guild.roles.get(role_id)
    if role is None:
        raise unknown("Role", 10011)
    bot_id = world.bot_user_id
    perms = world.member_permissions(guild.id, bot_id)
    if not perms & MANAGE_ROLES or role.managed or role_id == guild.id:
        raise ApiError(403, 50013, "Missing Permissions")
    if world.top_role_position(guild.id, bot_id) <= role.position and bot_id != guild.owner_id:
        raise ApiError(403, 50013, "Missing Permissions")


async def put_member_role(request: web.Request) -> web.Response:
    guild = guild_of(request)
    user_id = member_id_of(request, guild)
    role_id = snowflake_arg(request, "role_id", "Role", 10011)
    check_can_manage(world_of(request), guild, role_id)
    member = guild.members[user_id]
    if role_id not in member.roles or member.pending:
        if role_id not in member.roles:
            member.roles.append(role_id)
        member.pending = False  # giving any role bypasses membership screening, as on Discord
        events_of(request).member_updated(guild.id, user_id)
    return no_content()


async def delete_member_role(request: web.Request) -> web.Response:
    guild = guild_of(request)
    user_id = member_id_of(request, guild)
    role_id = snowflake_arg(request, "role_id", "Role", 10011)
    check_can_manage(world_of(request), guild, role_id)
    member = guild.members[user_id]
    if role_id in member.roles:
        member.roles.remove(role_id)
        events_of(request).member_updated(guild.id, user_id)
    return no_content()


async def patch_member(request: web.Request) -> web.Response:
    guild = guild_of(request)
    user_id = member_id_of(request, guild)
    body = body_of(request) or {}
    member = guild.members[user_id]
    if "roles" in body and body["roles"] is not None:
        wanted = [int(r) for r in body["roles"]]
        for role_id in set(wanted) ^ set(member.roles):
            check_can_manage(world_of(request), guild, role_id)
        member.roles = wanted
        if wanted:
            member.pending = False
    if "nick" in body:
        member.nick = body["nick"] or None
    events_of(request).member_updated(guild.id, user_id)
    return json_response(world_of(request).member_json(guild.id, user_id))


def setup_routes(api: web.Application) -> None:
    add = api.router.add_route
    # static paths first: aiohttp matches in registration order
    add("GET", "/users/@me", get_me)
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
