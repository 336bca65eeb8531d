"""The driver over HTTP under /_standin/ (JSON), for tests and demos in other processes.

POST /_standin/<action> with a JSON object of keyword arguments calls the driver method of that
name (ids may be strings). GET /_standin/requests?method=&route=&since= lists recorded
requests; GET /_standin/dms every DM the bot sent;
GET /_standin/interactions/<id> shows an interaction and its answer.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.standin.holds import Held
from bot.standin.httpkit import json_response
from bot.standin.interactions import Interaction
from bot.standin.recorder import Recorded

if TYPE_CHECKING:
    from bot.standin.server import StandIn

ID_ARGS = {
    "guild_id",
    "user_id",
    "owner_id",
    "channel_id",
    "author_id",
    "message_id",
    "reply_to",
    "interaction_id",
    "target_id",
}
ID_LIST_ARGS = {"role_ids", "mentions", "mention_roles"}
DATETIME_ARGS = {"created_at", "joined_at"}


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Interaction | Recorded | Held):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, set | frozenset):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and value > 2**53:
        return str(value)  # snowflakes as strings, as Discord does
    return value


def _coerce(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    for key, value in kwargs.items():
        if key in ID_ARGS and value is not None:
            out[key] = int(value)
        elif key in ID_LIST_ARGS and value is not None:
            out[key] = [int(v) for v in value]
        elif key in DATETIME_ARGS and value is not None:
            out[key] = datetime.fromisoformat(value)
        elif key == "privileged_intents" and value is not None:
            out[key] = set(value)
    return out


def setup_control(app: web.Application, standin: StandIn) -> None:
    faults = standin.faults
    actions: dict[str, Callable[..., Any]] = {
        "seed_sample": standin.seed_sample,
        "add_guild": standin.add_guild,
        "add_role": standin.add_role,
        "add_text_channel": standin.add_text_channel,
        "set_overwrite": standin.set_overwrite,
        "add_user": standin.add_user,
        "join": standin.join,
        "join_many": standin.join_many,
        "repeat_join": standin.repeat_join,
        "leave": standin.leave,
        "complete_screening": standin.complete_screening,
        "set_member_roles": standin.set_member_roles,
        "set_nick": standin.set_nick,
        "say": standin.say,
        "dm": standin.dm,
        "edit": standin.edit,
        "delete": standin.delete,
        "react": standin.react,
        "wait_response": _wait_response(standin),
        "submit_modal": _submit_modal(standin),
        "slash": standin.slash,
        "autocomplete": standin.autocomplete,
        "click": standin.click,
        "member_roles": standin.member_roles,
        "member": standin.member,
        "messages": standin.messages,
        "dms_to": standin.dms_to,
        "all_dms": standin.all_dms,
        "fail": faults.fail,
        "delay": faults.delay,
        "clear_faults": standin.clear_faults,
        "hold_responses": standin.hold_responses,
        "held": standin.held,
        "release_held": standin.release_held,
        "clear_holds": standin.holds.clear,
        "wait_held": standin.wait_held,
        "rate_limit": standin.rate_limit,
        "clear_rate_limits": standin.rate_limits.clear,
        "default_buckets": standin.rate_limits.use_default_buckets,
        "dm_open_limit": standin.dm_opens.set,
        "drop_connection": standin.drop_connection,
        "slow_chunks": standin.member_requests.slow,
        "drop_chunks": standin.member_requests.drop,
        "withhold_chunks": standin.member_requests.withhold,
        "release_chunks": standin.member_requests.release,
        "clear_chunk_faults": standin.member_requests.clear,
        "member_request_window": standin.member_requests.set_window,
        "wait_for": _wait_for(standin),
        "clear_requests": standin.recorder.clear,
        "command_create_limit": standin.command_creates.set,
    }

    async def info(request: web.Request) -> web.Response:
        return json_response(
            {
                "base_url": standin.base_url,
                "app_id": str(standin.app_id),
                "bot_user_id": str(standin.bot_user_id),
                "app_owner_id": str(standin.app_owner_id),
                "guilds": [str(g) for g in standin.world.guilds],
                "sessions": len(standin.sessions()),
                "connected": len(standin.connected_sessions()),
                "member_request_window": standin.member_requests.window,
                "actions": sorted(actions),
            }
        )

    async def act(request: web.Request) -> web.Response:
        name = request.match_info["action"]
        action = actions.get(name)
        if action is None:
            return json_response({"error": f"unknown action {name!r}"}, 404)
        try:
            raw = await request.read()
            kwargs = json.loads(raw) if raw else {}
            if not isinstance(kwargs, dict):
                raise TypeError("body must be a JSON object of keyword arguments")
            args = _coerce(kwargs)
            result = action(**args)
            if hasattr(result, "__await__"):
                result = await result
        except (TypeError, ValueError, KeyError, LookupError, TimeoutError) as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
        return json_response(
            {"result": to_jsonable(result), **_stamps(standin, name, args, result)}
        )

    async def requests(request: web.Request) -> web.Response:
        q = request.query
        try:
            since = int(q.get("since", 0))
        except ValueError:
            return json_response({"error": "since must be a request index"}, 400)
        found = standin.recorder.requests(q.get("method") or None, q.get("route") or None, since)
        return json_response({"result": [r.to_json() for r in found]})

    async def dms(request: web.Request) -> web.Response:
        return json_response({"result": to_jsonable(standin.all_dms())})

    async def interaction(request: web.Request) -> web.Response:
        ix = standin.interactions.by_id.get(int(request.match_info["interaction_id"]))
        if ix is None:
            return json_response({"error": "unknown interaction"}, 404)
        return json_response({"result": ix.to_json()})

    app.router.add_get("/_standin", info)
    app.router.add_get("/_standin/", info)
    app.router.add_get("/_standin/requests", requests)
    app.router.add_get("/_standin/dms", dms)
    app.router.add_get("/_standin/interactions/{interaction_id}", interaction)
    app.router.add_post("/_standin/{action}", act)


def _stamps(standin: StandIn, action: str, args: dict[str, Any], result: Any) -> dict[str, str]:
    """The stand-in's own time of a join or leave, beside the action's result, so a driver in
    another process compares the bot's records with the stand-in's clock, not its own."""
    if action == "join":
        member = standin.world.guilds[args["guild_id"]].members[result]
        return {"joined_at": member.joined_at.isoformat()}
    if action == "leave":
        return {"left_at": result.isoformat()}
    return {}


def _wait_for(standin: StandIn) -> Callable[..., Any]:
    async def wait_for(
        method: str | None = None,
        route: str | None = None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Recorded]:
        return await standin.wait_for(method, route, count, timeout)

    return wait_for


def _wait_response(standin: StandIn) -> Callable[..., Any]:
    async def wait_response(interaction_id: int | str, timeout: float = 5.0) -> Any:
        ix = standin.interactions.by_id.get(int(interaction_id))
        if ix is None:
            raise LookupError(f"unknown interaction {interaction_id}")
        await ix.wait_response(timeout)
        return ix

    return wait_response


def _submit_modal(standin: StandIn) -> Callable[..., Any]:
    async def submit_modal(
        interaction_id: int | str, values: dict[str, Any], user_id: int | None = None
    ) -> Any:
        ix = standin.interactions.by_id.get(int(interaction_id))
        if ix is None:
            raise LookupError(f"unknown interaction {interaction_id}")
        return await standin.submit_modal(ix, values, user_id)

    return submit_modal
