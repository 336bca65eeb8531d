"""Interactions the stand-in sent (slash commands, component clicks) and how the bot answered."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

RESPONSE_WINDOW = 3.0  # seconds to answer before the token can no longer be used for a callback
TOKEN_LIFETIME = 15 * 60.0


@dataclass
class Interaction:
    id: int
    token: str
    type: int  # 2 application command, 3 message component
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: Json  # exactly what went out in INTERACTION_CREATE
    message_id: int | None = None  # the message whose component was clicked
    created: float = field(default_factory=time.monotonic)
    response: Json | None = None  # the callback body: {"type": 4, "data": {...}}
    original_message_id: int | None = None
    followups: list[Json] = field(default_factory=list)
    edits: list[Json] = field(default_factory=list)  # bodies of PATCH @original / followup edits
    _answered: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def responded(self) -> bool:
        return self.response is not None

    @property
    def response_type(self) -> int | None:
        return None if self.response is None else int(self.response.get("type", 0))

    def set_response(self, body: Json) -> None:
        self.response = body
        self._answered.set()

    def expired_for_callback(self, window: float = RESPONSE_WINDOW) -> bool:
        return time.monotonic() - self.created > window

    def token_expired(self) -> bool:
        return time.monotonic() - self.created > TOKEN_LIFETIME

    async def wait_response(self, timeout: float = 5.0) -> Json:
        """Wait until the bot called the interaction callback; returns its JSON body."""
        try:
            await asyncio.wait_for(self._answered.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"interaction {self.id} not answered within {timeout}s") from None
        assert self.response is not None
        return self.response

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[Json]:
        deadline = time.monotonic() + timeout
        while len(self.followups) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"interaction {self.id}: {len(self.followups)} followups")
            await asyncio.sleep(0.01)
        return self.followups

    def to_json(self) -> Json:
        return {
            "id": str(self.id),
            "token": self.token,
            "type": self.type,
            "guild_id": str(self.guild_id) if self.guild_id else None,
            "channel_id": str(self.channel_id),
            "user_id": str(self.user_id),
            "response": self.response,
            "original_message_id": (
                str(self.original_message_id) if self.original_message_id else None
            ),
            "followups": self.followups,
            "edits": self.edits,
        }


class Interactions:
    """Every interaction sent, by id and by token, and how long the bot has to answer one."""

    def __init__(self) -> None:
        self.by_id: dict[int, Interaction] = {}
        self.by_token: dict[str, Interaction] = {}
        self.window = RESPONSE_WINDOW

    def add(self, ix: Interaction) -> None:
        self.by_id[ix.id] = ix
        self.by_token[ix.token] = ix
