"""Changes to the world that sessions hear about: each stores the change and dispatches its
gateway event with the intent it needs (events/gateway-events.mdx)."""

from __future__ import annotations

from bot.standin.content import without_content
from bot.standin.gateway import Gateway
from bot.standin.intents import (
    DIRECT_MESSAGE_REACTIONS,
    DIRECT_MESSAGES,
    GUILD_MEMBERS,
    GUILD_MESSAGE_REACTIONS,
    GUILD_MESSAGES,
)
from bot.standin.model import Json, Message, emoji_json
from bot.standin.state import World

EPHEMERAL = 1 << 6


class Events:
    def __init__(self, world: World, gateway: Gateway) -> None:
        self.world = world
        self.gateway = gateway

    def member_updated(self, guild_id: int, user_id: int) -> None:
        data = self.world.member_json(guild_id, user_id)
        data["guild_id"] = str(guild_id)
        self.gateway.dispatch("GUILD_MEMBER_UPDATE", data, intent=GUILD_MEMBERS)

    def message_payloads(self, msg: Message, data: Json) -> tuple[int, Json | None]:
        """The intent a message event needs, and its JSON for sessions without MESSAGE_CONTENT
        (None when they see the same)."""
        intent = GUILD_MESSAGES if msg.guild_id else DIRECT_MESSAGES
        stripped = without_content(data, self.world.bot_user_id)
        return intent, (None if stripped == data else stripped)

    def message_created(self, msg: Message) -> None:
        world = self.world
        if msg.flags & EPHEMERAL:
            world.messages[msg.id] = msg  # only the invoking user sees it: no MESSAGE_CREATE
            return
        world.add_message(msg)
        data = world.message_json(msg.id)
        intent, stripped = self.message_payloads(msg, data)
        self.gateway.dispatch("MESSAGE_CREATE", data, intent=intent, stripped=stripped)

    def reaction(self, msg: Message, user_id: int, emoji: str, *, added: bool) -> None:
        data: Json = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": emoji_json(emoji),
            "burst": False,
            "type": 0,
        }
        if msg.guild_id:
            data["guild_id"] = str(msg.guild_id)
            if added and user_id in self.world.guilds[msg.guild_id].members:
                data["member"] = self.world.member_json(msg.guild_id, user_id)
            if added:
                data["message_author_id"] = str(msg.author_id)
        intent = GUILD_MESSAGE_REACTIONS if msg.guild_id else DIRECT_MESSAGE_REACTIONS
        event = "MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE"
        self.gateway.dispatch(event, data, intent=intent)

    def message_updated(self, msg: Message) -> None:
        data = self.world.message_json(msg.id)
        intent, stripped = self.message_payloads(msg, data)
        self.gateway.dispatch("MESSAGE_UPDATE", data, intent=intent, stripped=stripped)

    def message_deleted(self, msg: Message) -> None:
        self.world.delete_message(msg.id)
        data: Json = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id:
            data["guild_id"] = str(msg.guild_id)
        intent = GUILD_MESSAGES if msg.guild_id else DIRECT_MESSAGES
        if not msg.flags & EPHEMERAL:
            self.gateway.dispatch("MESSAGE_DELETE", data, intent=intent)
