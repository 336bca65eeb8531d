"""The bot's application as Discord knows it: its ids, token, enabled privileged intents, the
addresses it is served at, and its JSON (resources/application.mdx)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from bot.standin.content import without_content
from bot.standin.model import Json
from bot.standin.state import World

PRESENCE_LIMITED = 1 << 13
GUILD_MEMBERS_LIMITED = 1 << 15
MESSAGE_CONTENT_LIMITED = 1 << 19


@dataclass
class Application:
    token: str | None
    privileged_intents: set[str]
    owner_id: int
    bot_user_id: int  # a modern application's id equals its bot user's id
    name: str = "Followback"
    verify_key: str = field(default_factory=lambda: secrets.token_hex(32))
    host: str = "127.0.0.1"
    port: int = 0

    @property
    def id(self) -> int:
        return self.bot_user_id

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def token_ok(self, token: str) -> bool:
        """REST strips "Bot " before calling; the gateway's IDENTIFY may carry it or not."""
        token = token.removeprefix("Bot ")
        return self.token is None or secrets.compare_digest(token.encode(), self.token.encode())

    def members_intent_enabled(self) -> bool:
        return "members" in self.privileged_intents

    def flags(self) -> int:
        flags = 0
        if "presences" in self.privileged_intents:
            flags |= PRESENCE_LIMITED
        if "members" in self.privileged_intents:
            flags |= GUILD_MEMBERS_LIMITED
        if "message_content" in self.privileged_intents:
            flags |= MESSAGE_CONTENT_LIMITED
        return flags

    def readable(self, data: Json) -> Json:
        """A message as REST returns it: emptied if the app lacks the MESSAGE_CONTENT intent."""
        if "message_content" in self.privileged_intents:
            return data
        return without_content(data, self.bot_user_id)

    def to_json(self, world: World) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "description": "A self-hosted follow-back bot (local stand-in).",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": self.verify_key,
            "owner": world.user_json(self.owner_id),
            "team": None,
            "flags": self.flags(),
            "bot": world.user_json(self.bot_user_id),
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "approximate_guild_count": len(world.guilds),
            "integration_types_config": {"0": {}},
            "hook": True,
        }
