"""REST routes for application commands, global and per guild: list, bulk overwrite, and the
single-command create / get / edit / delete (interactions/application-commands.mdx)."""

from __future__ import annotations

from aiohttp import web

from bot.standin.command_limits import MAX_PER_TYPE, check_command, check_commands
from bot.standin.commands import GLOBAL_SCOPE, command_json, edited, find_by_name
from bot.standin.context import COMMAND_CREATES, app_of, world_of
from bot.standin.httpkit import (
    ApiError,
    body_of,
    invalid,
    json_response,
    no_content,
    snowflake_arg,
    unknown,
)
from bot.standin.model import Json
from bot.standin.rest_guilds import guild_of

COMMANDS = "/applications/{application_id}/commands"
GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"


def _scope(request: web.Request) -> tuple[dict[int, Json], int | None]:
    """The command store the path names (the app's global commands or one guild's)."""
    app_id = snowflake_arg(request, "application_id", "Application", 10002)
    if app_id != app_of(request).id:
        raise ApiError(403, 50001, "Missing Access")
    if "guild_id" in request.match_info:
        guild = guild_of(request)
        return guild.commands, guild.id
    return world_of(request).global_commands, None


def _command_in(request: web.Request, store: dict[int, Json]) -> Json:
    command_id = snowflake_arg(request, "command_id", "application command", 10063)
    command = store.get(command_id)
    if command is None:
        raise unknown("application command", 10063)
    return command


def _body(request: web.Request) -> Json:
    body = body_of(request)
    if not isinstance(body, dict):
        raise ApiError(400, 50035, "Invalid Form Body")
    return body


async def list_commands(request: web.Request) -> web.Response:
    store, _ = _scope(request)
    return json_response(list(store.values()))


async def get_command(request: web.Request) -> web.Response:
    store, _ = _scope(request)
    return json_response(_command_in(request, store))


async def put_commands(request: web.Request) -> web.Response:
    """Bulk overwrite: "Commands that do not already exist will count toward daily application
    command create limits"."""
    store, guild_id = _scope(request)
    body = body_of(request)
    if not isinstance(body, list) or not all(isinstance(c, dict) for c in body):
        raise ApiError(400, 50035, "Invalid Form Body")
    check_commands(body)
    by_key = {(c["name"], int(c["type"])): int(c["id"]) for c in store.values()}
    ids: list[int | None] = []
    for item in body:
        known = item.get("id")
        key = (item["name"], int(item.get("type", 1)))
        ids.append(int(known) if known is not None and int(known) in store else by_key.get(key))
    request.app[COMMAND_CREATES].take(guild_id or GLOBAL_SCOPE, sum(1 for i in ids if i is None))
    world = world_of(request)
    fresh: dict[int, Json] = {}
    for item, known_id in zip(body, ids, strict=True):
        command_id = known_id or world.new_id()
        fresh[command_id] = command_json(
            item, command_id, app_of(request).id, guild_id, world.new_id()
        )
    store.clear()
    store.update(fresh)
    return json_response(list(store.values()))


async def create_command(request: web.Request) -> web.Response:
    """201 for a new name, 200 when it overwrites the command of that name and type."""
    store, guild_id = _scope(request)
    body = _body(request)
    check_command(body)
    kind = int(body.get("type", 1))
    existing = find_by_name(store, str(body["name"]), kind)
    world = world_of(request)
    if existing is None:
        same_type = sum(1 for c in store.values() if int(c.get("type", 1)) == kind)
        if same_type >= MAX_PER_TYPE.get(kind, 1):
            raise ApiError(400, 30032, "Maximum number of application commands reached")
        request.app[COMMAND_CREATES].take(guild_id or GLOBAL_SCOPE, 1)
        command_id = world.new_id()
    else:
        command_id = int(existing["id"])
    command = command_json(body, command_id, app_of(request).id, guild_id, world.new_id())
    store[command_id] = command
    return json_response(command, 200 if existing is not None else 201)


async def edit_command(request: web.Request) -> web.Response:
    store, _ = _scope(request)
    command = _command_in(request, store)
    merged = edited(command, _body(request))
    check_command(merged)
    other = find_by_name(store, str(merged["name"]), int(merged.get("type", 1)))
    if other is not None and other["id"] != command["id"]:
        raise invalid(
            "name",
            "Application command names must be unique",
            "APPLICATION_COMMANDS_DUPLICATE_NAME",
        )
    merged["version"] = str(world_of(request).new_id())
    store[int(command["id"])] = merged
    return json_response(merged)


async def delete_command(request: web.Request) -> web.Response:
    store, _ = _scope(request)
    command = _command_in(request, store)
    del store[int(command["id"])]
    return no_content()


def setup_routes(api: web.Application) -> None:
    add = api.router.add_route
    for base in (COMMANDS, GUILD_COMMANDS):
        add("GET", base, list_commands)
        add("PUT", base, put_commands)
        add("POST", base, create_command)
        add("GET", base + "/{command_id}", get_command)
        add("PATCH", base + "/{command_id}", edit_command)
        add("DELETE", base + "/{command_id}", delete_command)
