"""Driver actions for interactions: slash commands, autocomplete, component clicks and modal
submits, sent as INTERACTION_CREATE (interactions/receiving-and-responding.mdx)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Any

from bot.standin.application import Application
from bot.standin.gateway import Gateway
from bot.standin.interactions import Interaction, Interactions
from bot.standin.model import Json
from bot.standin.state import World

OPTION_TYPES_WITH_IDS = {6, 7, 8, 9, 11}
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5


class InteractionDriver:
    def __init__(
        self, world: World, gateway: Gateway, app: Application, interactions: Interactions
    ) -> None:
        self.world = world
        self.gateway = gateway
        self.app = app
        self.interactions = interactions

    def find_command(self, guild_id: int | None, name: str) -> Json:
        world = self.world
        stores = []
        if guild_id is not None:
            stores.append(world.guilds[guild_id].commands)
        stores.append(world.global_commands)
        for store in stores:
            for command in store.values():
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        raise LookupError(f"no slash command /{name} registered (did the bot sync its tree?)")

    def options(
        self,
        definitions: list[Json],
        values: dict[str, Any],
        resolved: Json,
        guild_id: int | None,
        focused: str | None = None,
    ) -> list[Json]:
        by_name = {d["name"]: d for d in definitions}
        out = []
        for name, value in values.items():
            definition = by_name.get(name)
            if definition is None:
                raise LookupError(f"option {name!r} is not one of {sorted(by_name)}")
            kind = int(definition["type"])
            if name == focused:
                if not definition.get("autocomplete"):
                    raise LookupError(f"option {name!r} does not have autocomplete")
                # what the user has typed so far: "partial data", sent as typed
                out.append({"name": name, "type": kind, "value": str(value), "focused": True})
                continue
            if kind in OPTION_TYPES_WITH_IDS:
                value = str(int(value))
                self.resolve(kind, int(value), resolved, guild_id)
            elif kind == 4:
                value = int(value)
            elif kind == 10:
                value = float(value)
            elif kind == 5:
                value = bool(value)
            else:
                value = str(value)
            out.append({"name": name, "type": kind, "value": value})
        return out

    def resolve(self, kind: int, target: int, resolved: Json, guild_id: int | None) -> None:
        world = self.world
        if target in world.users and kind in (6, 9):
            resolved.setdefault("users", {})[str(target)] = world.user_json(target)
            if guild_id is not None and target in world.guilds[guild_id].members:
                member = world.member_json(guild_id, target, with_user=False)
                member["permissions"] = str(world.member_permissions(guild_id, target))
                resolved.setdefault("members", {})[str(target)] = member
        elif guild_id is not None and target in world.guilds[guild_id].roles:
            role = world.guilds[guild_id].roles[target].to_json()
            resolved.setdefault("roles", {})[str(target)] = role
        elif target in world.channels:
            channel = world.channel_json(target)
            channel["permissions"] = str((1 << 41) - 1)
            resolved.setdefault("channels", {})[str(target)] = channel

    def create(
        self,
        kind: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        data: Json,
        message_id: int | None = None,
    ) -> Interaction:
        world = self.world
        bot_id = self.app.bot_user_id
        iid = world.new_id()
        token = f"standin.{iid}.{secrets.token_urlsafe(24)}"
        payload: Json = {
            "id": str(iid),
            "application_id": str(self.app.id),
            "type": kind,
            "data": data,
            "channel_id": str(channel_id),
            "channel": world.channel_json(channel_id),
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild_id is not None:
            member = world.member_json(guild_id, user_id)
            member["permissions"] = str(world.member_permissions(guild_id, user_id))
            payload.update(
                {
                    "guild_id": str(guild_id),
                    "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
                    "guild_locale": "en-US",
                    "member": member,
                    "app_permissions": str(world.member_permissions(guild_id, bot_id)),
                    "authorizing_integration_owners": {"0": str(guild_id)},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "user": world.user_json(user_id),
                    "app_permissions": str((1 << 41) - 1),
                    "authorizing_integration_owners": {"0": "0"},
                    "context": 1,
                }
            )
        if message_id is not None:
            payload["message"] = world.message_json(message_id)
        ix = Interaction(iid, token, kind, guild_id, channel_id, user_id, payload, message_id)
        self.interactions.add(ix)
        self.gateway.dispatch("INTERACTION_CREATE", payload)
        return ix

    async def slash(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, Any] | None = None,
    ) -> Interaction:
        """A user invokes a registered slash command. `name` may be "group sub" for subcommands;
        option types come from the registered definition (users/roles/channels get resolved)."""
        data = self.command_data(guild_id, name, options or {}, None)
        ix = self.create(APPLICATION_COMMAND, guild_id, channel_id, user_id, data)
        await asyncio.sleep(0)
        return ix

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, Any],
        focused: str,
    ) -> Interaction:
        """A user types into option `focused` (which must have `autocomplete`) of a registered
        command: an APPLICATION_COMMAND_AUTOCOMPLETE interaction (type 4) whose focused option
        carries what was typed so far, as a string, with `focused: true`. The bot answers with
        callback type 8 (`ix.wait_response()` gives `{"type": 8, "data": {"choices": [...]}}`)."""
        if focused not in options:
            raise LookupError(f"focused option {focused!r} has no typed value in `options`")
        data = self.command_data(guild_id, name, options, focused)
        ix = self.create(AUTOCOMPLETE, guild_id, channel_id, user_id, data)
        await asyncio.sleep(0)
        return ix

    def command_data(
        self, guild_id: int | None, name: str, options: dict[str, Any], focused: str | None
    ) -> Json:
        parts = name.split()
        command = self.find_command(guild_id, parts[0])
        resolved: Json = {}
        definitions: list[Json] = command.get("options") or []
        leaf = self.options_for_path(definitions, parts[1:], options, resolved, guild_id, focused)
        data: Json = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "options": leaf,
            "version": command.get("version"),
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]  # discord.py needs it to find guild commands
        if resolved:
            data["resolved"] = resolved
        return data

    def options_for_path(
        self,
        definitions: list[Json],
        path: list[str],
        values: dict[str, Any],
        resolved: Json,
        guild_id: int | None,
        focused: str | None,
    ) -> list[Json]:
        if not path:
            return self.options(definitions, values, resolved, guild_id, focused)
        head = next((d for d in definitions if d["name"] == path[0]), None)
        if head is None or int(head["type"]) not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            raise LookupError(f"no subcommand {path[0]!r}")
        inner = self.options_for_path(
            head.get("options") or [], path[1:], values, resolved, guild_id, focused
        )
        return [{"name": head["name"], "type": int(head["type"]), "options": inner}]

    async def click(
        self,
        channel_id: int,
        message_id: int,
        custom_id: str,
        user_id: int,
        guild_id: int | None = None,
        *,
        values: Sequence[str] | None = None,
    ) -> Interaction:
        """A user clicks a component (button, or a select with `values`) on a message."""
        world = self.world
        msg = world.messages.get(message_id)
        if msg is None or msg.channel_id != channel_id:
            raise LookupError(f"no message {message_id} in channel {channel_id}")
        if guild_id is None:
            guild_id = world.channels[channel_id].guild_id
        component_type = find_component_type(msg.components, custom_id) or 2
        data: Json = {"custom_id": custom_id, "component_type": component_type}
        if values is not None or component_type != 2:
            data["values"] = list(values or [])
        ix = self.create(3, guild_id, channel_id, user_id, data, message_id)
        await asyncio.sleep(0)
        return ix

    async def submit_modal(
        self, shown_by: Interaction, values: dict[str, Any], user_id: int | None = None
    ) -> Interaction:
        """A user submits the modal the bot showed in answer to `shown_by` (callback type 9).
        `values` maps text-input custom_ids to text (select custom_ids to lists of values)."""
        if shown_by.response_type != 9 or shown_by.response is None:
            raise LookupError(f"interaction {shown_by.id} was not answered with a modal")
        modal = shown_by.response.get("data") or {}
        data: Json = {
            "custom_id": modal["custom_id"],
            "components": [submitted(c, values) for c in modal.get("components") or []],
        }
        ix = self.create(
            5,
            shown_by.guild_id,
            shown_by.channel_id,
            shown_by.user_id if user_id is None else user_id,
            data,
            shown_by.message_id,
        )
        await asyncio.sleep(0)
        return ix


def find_component_type(components: list[Json], custom_id: str) -> int | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return int(component.get("type", 2))
        found = find_component_type(component.get("components") or [], custom_id)
        if found is not None:
            return found
        accessory = component.get("accessory")
        if isinstance(accessory, dict) and accessory.get("custom_id") == custom_id:
            return int(accessory.get("type", 2))
    return None


def submitted(component: Json, values: dict[str, Any]) -> Json:
    """The modal-submit shape of a shown modal component, filled with the user's values."""
    kind = int(component.get("type", 0))
    if kind == 1:  # action row
        return {"type": 1, "components": [submitted(c, values) for c in component["components"]]}
    if kind == 18:  # label wrapping one component
        return {"type": 18, "component": submitted(component["component"], values)}
    custom_id = component.get("custom_id")
    out: Json = {"type": kind, "custom_id": custom_id}
    if kind == 4:  # text input
        out["value"] = str(values.get(str(custom_id), component.get("value") or ""))
    else:  # selects
        chosen = values.get(str(custom_id), [])
        out["values"] = [str(v) for v in (chosen if isinstance(chosen, list) else [chosen])]
    return out
