"""Driver actions that make things happen: joins, messages, slash commands, clicks."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.standin.gateway import Gateway
from bot.standin.intents import GUILD_MEMBERS
from bot.standin.interactions import Interaction
from bot.standin.state import Channel, Json, Member, Message, World

if TYPE_CHECKING:
    from bot.standin.sample import SampleWorld

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
OPTION_TYPES_WITH_IDS = {6, 7, 8, 9, 11}
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
DID_REJOIN = 1 << 0
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5


class DriverMixin:
    world: World
    gateway: Gateway
    bot_user_id: int
    app_id: int
    app_owner_id: int
    interactions: dict[int, Interaction]
    interactions_by_token: dict[str, Interaction]

    if TYPE_CHECKING:

        def add_user(
            self,
            username: str,
            *,
            global_name: str | None = None,
            bot: bool = False,
            spammer: bool = False,
            avatar: str | None = None,
            created_at: datetime | None = None,
            dms_closed: bool = False,
            public_flags: int = 0,
        ) -> int: ...

        def dm_channel(self, user_id: int) -> Channel: ...
        def store_and_dispatch(self, msg: Message) -> None: ...
        def dispatch_member_update(self, guild_id: int, user_id: int) -> None: ...
        def dispatch_message_update(self, msg: Message) -> None: ...
        def delete_and_dispatch(self, msg: Message) -> None: ...
        def dispatch_reaction(
            self, msg: Message, user_id: int, emoji: str, *, added: bool
        ) -> None: ...

    # -- members ---------------------------------------------------------------------------------
    def _add_member(
        self,
        guild_id: int,
        user_id: int,
        joined_at: datetime | None,
        pending: bool | None,
    ) -> Json:
        guild = self.world.guilds[guild_id]
        if user_id in guild.members:
            raise ValueError(f"user {user_id} is already a member of guild {guild_id}")
        member = Member(
            user_id,
            guild_id,
            joined_at or self.world.now(),
            pending=guild.screening if pending is None else pending,
            flags=DID_REJOIN if user_id in guild.ever_joined else 0,
        )
        guild.members[user_id] = member
        guild.ever_joined.add(user_id)
        data = member.to_json(self.world.users[user_id])
        data["guild_id"] = str(guild_id)
        return data

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        joined_at: datetime | None = None,
        roles: Sequence[int] = (),
        pending: bool | None = None,
        nick: str | None = None,
    ) -> None:
        """Seed an existing user as a member (sync; GUILD_MEMBER_ADD goes to connected bots)."""
        data = self._add_member(guild_id, user_id, joined_at, pending)
        member = self.world.guilds[guild_id].members[user_id]
        member.roles = [r for r in roles if r != guild_id]
        member.nick = nick
        if roles or nick:
            data = member.to_json(self.world.users[user_id])
            data["guild_id"] = str(guild_id)
        self.gateway.dispatch("GUILD_MEMBER_ADD", data, intent=GUILD_MEMBERS)

    async def join(
        self,
        guild_id: int,
        user_id: int | None = None,
        *,
        username: str | None = None,
        global_name: str | None = None,
        bot: bool = False,
        spammer: bool = False,
        avatar: str | None = None,
        created_at: datetime | None = None,
        joined_at: datetime | None = None,
        pending: bool | None = None,
        dms_closed: bool = False,
    ) -> int:
        """A user joins (created first if `user_id` is None); dispatches GUILD_MEMBER_ADD.
        `pending` defaults to the guild's screening setting."""
        if user_id is None:
            user_id = self.add_user(
                username or f"user{len(self.world.users)}",
                global_name=global_name,
                bot=bot,
                spammer=spammer,
                avatar=avatar,
                created_at=created_at,
                dms_closed=dms_closed,
            )
        data = self._add_member(guild_id, user_id, joined_at, pending)
        self.gateway.dispatch("GUILD_MEMBER_ADD", data, intent=GUILD_MEMBERS)
        await asyncio.sleep(0)
        return user_id

    async def join_many(
        self,
        guild_id: int,
        n: int,
        *,
        prefix: str = "member",
        created_at: datetime | None = None,
        pending: bool | None = None,
    ) -> list[int]:
        """Bulk joins for benchmarks: one GUILD_MEMBER_ADD each, written in batches."""
        ids = []
        for i in range(n):
            uid = self.add_user(f"{prefix}{i}", created_at=created_at)
            self.gateway.dispatch(
                "GUILD_MEMBER_ADD",
                self._add_member(guild_id, uid, None, pending),
                intent=GUILD_MEMBERS,
            )
            ids.append(uid)
            if i % 500 == 499:
                await asyncio.sleep(0)  # let the writer tasks drain
        await asyncio.sleep(0)
        return ids

    async def repeat_join(self, guild_id: int, user_id: int) -> None:
        """GUILD_MEMBER_ADD again for someone already a member: "This event may also be sent for
        users who are already members of the guild" (events/gateway-events.mdx)."""
        data = self.world.member_json(guild_id, user_id)
        data["guild_id"] = str(guild_id)
        self.gateway.dispatch("GUILD_MEMBER_ADD", data, intent=GUILD_MEMBERS)
        await asyncio.sleep(0)

    async def leave(self, guild_id: int, user_id: int) -> None:
        guild = self.world.guilds[guild_id]
        guild.members.pop(user_id)
        data = {"guild_id": str(guild_id), "user": self.world.user_json(user_id)}
        self.gateway.dispatch("GUILD_MEMBER_REMOVE", data, intent=GUILD_MEMBERS)
        await asyncio.sleep(0)

    async def complete_screening(self, guild_id: int, user_id: int) -> None:
        self.world.guilds[guild_id].members[user_id].pending = False
        self.dispatch_member_update(guild_id, user_id)
        await asyncio.sleep(0)

    async def set_member_roles(self, guild_id: int, user_id: int, role_ids: Sequence[int]) -> None:
        """The owner edits a member's roles by hand."""
        guild = self.world.guilds[guild_id]
        unknown = [r for r in role_ids if r not in guild.roles]
        if unknown:
            raise KeyError(f"unknown roles {unknown}")
        guild.members[user_id].roles = [r for r in role_ids if r != guild_id]
        self.dispatch_member_update(guild_id, user_id)
        await asyncio.sleep(0)

    async def set_nick(self, guild_id: int, user_id: int, nick: str | None) -> None:
        self.world.guilds[guild_id].members[user_id].nick = nick
        self.dispatch_member_update(guild_id, user_id)
        await asyncio.sleep(0)

    # -- messages --------------------------------------------------------------------------------
    async def say(
        self,
        channel_id: int,
        author_id: int,
        content: str,
        *,
        mentions: Sequence[int] = (),
        reply_to: int | None = None,
        mention_roles: Sequence[int] = (),
        embeds: Sequence[Json] = (),
        attachments: Sequence[Json] = (),
    ) -> Json:
        """A user posts a message (MESSAGE_CREATE). <@id>/<@&id> in content count as mentions too;
        a reply pings the replied-to author, as Discord's client does by default."""
        world = self.world
        channel = world.channels[channel_id]
        users = list(dict.fromkeys([*mentions, *(int(u) for u in USER_MENTION.findall(content))]))
        if reply_to is not None:
            target = world.messages[reply_to]
            if target.author_id not in users:
                users.append(target.author_id)
        roles = list(
            dict.fromkeys([*mention_roles, *(int(r) for r in ROLE_MENTION.findall(content))])
        )
        msg = Message(
            id=world.new_id(),
            channel_id=channel_id,
            author_id=author_id,
            content=content,
            guild_id=channel.guild_id,
            embeds=list(embeds),
            attachments=list(attachments),
            mentions=[u for u in users if u in world.users],
            mention_roles=roles,
            mention_everyone="@everyone" in content or "@here" in content,
            reference_id=reply_to,
        )
        self.store_and_dispatch(msg)
        await asyncio.sleep(0)
        return world.message_json(msg.id)

    async def edit(self, message_id: int, content: str) -> Json:
        """The author edits a message (MESSAGE_UPDATE)."""
        msg = self.world.messages[message_id]
        msg.content = content
        msg.edited_at = self.world.now()
        self.dispatch_message_update(msg)
        await asyncio.sleep(0)
        return self.world.message_json(message_id)

    async def delete(self, message_id: int) -> None:
        """The author (or a moderator) deletes a message (MESSAGE_DELETE)."""
        self.delete_and_dispatch(self.world.messages[message_id])
        await asyncio.sleep(0)

    async def react(self, message_id: int, user_id: int, emoji: str) -> None:
        """A user adds a reaction (MESSAGE_REACTION_ADD); `emoji` is '👍' or 'name:id'."""
        msg = self.world.messages[message_id]
        users = msg.reactions.setdefault(emoji, [])
        if user_id not in users:
            users.append(user_id)
            self.dispatch_reaction(msg, user_id, emoji, added=True)
        await asyncio.sleep(0)

    async def dm(self, user_id: int, content: str) -> Json:
        """A user writes to the bot in DMs."""
        return await self.say(self.dm_channel(user_id).id, user_id, content)

    # -- interactions ----------------------------------------------------------------------------
    def _find_command(self, guild_id: int | None, name: str) -> Json:
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

    def _options(
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
                self._resolve(kind, int(value), resolved, guild_id)
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

    def _resolve(self, kind: int, target: int, resolved: Json, guild_id: int | None) -> None:
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

    def _interaction(
        self,
        kind: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        data: Json,
        message_id: int | None = None,
    ) -> Interaction:
        world = self.world
        iid = world.new_id()
        token = f"standin.{iid}.{secrets.token_urlsafe(24)}"
        payload: Json = {
            "id": str(iid),
            "application_id": str(self.app_id),
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
                    "app_permissions": str(world.member_permissions(guild_id, self.bot_user_id)),
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
        self.interactions[iid] = ix
        self.interactions_by_token[token] = ix
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
        data = self._command_data(guild_id, name, options or {}, None)
        ix = self._interaction(APPLICATION_COMMAND, guild_id, channel_id, user_id, data)
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
        data = self._command_data(guild_id, name, options, focused)
        ix = self._interaction(AUTOCOMPLETE, guild_id, channel_id, user_id, data)
        await asyncio.sleep(0)
        return ix

    def _command_data(
        self, guild_id: int | None, name: str, options: dict[str, Any], focused: str | None
    ) -> Json:
        parts = name.split()
        command = self._find_command(guild_id, parts[0])
        resolved: Json = {}
        definitions: list[Json] = command.get("options") or []
        leaf = self._options_for_path(definitions, parts[1:], options, resolved, guild_id, focused)
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

    def _options_for_path(
        self,
        definitions: list[Json],
        path: list[str],
        values: dict[str, Any],
        resolved: Json,
        guild_id: int | None,
        focused: str | None,
    ) -> list[Json]:
        if not path:
            return self._options(definitions, values, resolved, guild_id, focused)
        head = next((d for d in definitions if d["name"] == path[0]), None)
        if head is None or int(head["type"]) not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            raise LookupError(f"no subcommand {path[0]!r}")
        inner = self._options_for_path(
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
        component_type = _component_type(msg.components, custom_id) or 2
        data: Json = {"custom_id": custom_id, "component_type": component_type}
        if values is not None or component_type != 2:
            data["values"] = list(values or [])
        ix = self._interaction(3, guild_id, channel_id, user_id, data, message_id)
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
            "components": [_submitted(c, values) for c in modal.get("components") or []],
        }
        ix = self._interaction(
            5,
            shown_by.guild_id,
            shown_by.channel_id,
            shown_by.user_id if user_id is None else user_id,
            data,
            shown_by.message_id,
        )
        await asyncio.sleep(0)
        return ix

    def seed_sample(self) -> SampleWorld:
        from bot.standin.sample import seed_sample

        return seed_sample(self)  # type: ignore[arg-type]


def _component_type(components: list[Json], custom_id: str) -> int | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return int(component.get("type", 2))
        found = _component_type(component.get("components") or [], custom_id)
        if found is not None:
            return found
        accessory = component.get("accessory")
        if isinstance(accessory, dict) and accessory.get("custom_id") == custom_id:
            return int(accessory.get("type", 2))
    return None


def _submitted(component: Json, values: dict[str, Any]) -> Json:
    """The modal-submit shape of a shown modal component, filled with the user's values."""
    kind = int(component.get("type", 0))
    if kind == 1:  # action row
        return {"type": 1, "components": [_submitted(c, values) for c in component["components"]]}
    if kind == 18:  # label wrapping one component
        return {"type": 18, "component": _submitted(component["component"], values)}
    custom_id = component.get("custom_id")
    out: Json = {"type": kind, "custom_id": custom_id}
    if kind == 4:  # text input
        out["value"] = str(values.get(str(custom_id), component.get("value") or ""))
    else:  # selects
        chosen = values.get(str(custom_id), [])
        out["values"] = [str(v) for v in (chosen if isinstance(chosen, list) else [chosen])]
    return out
