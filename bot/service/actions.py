"""What the outbox asks of Discord, as a protocol, and how failures are classified.

The Discord layer implements `ActionGateway`; the outbox only sees `ActionFailed`
with Discord's HTTP status and JSON error code, so it decides by code, not class.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

# Discord JSON error codes that will never succeed if retried.
CANNOT_DM = 50007
MISSING_PERMISSIONS = 50013
MISSING_ACCESS = 50001
UNKNOWN_MEMBER = 10007
UNKNOWN_ROLE = 10011
UNKNOWN_USER = 10013
OPENING_DMS_TOO_FAST = 40003
FLAGGED_BY_ANTI_SPAM = 20026
NO_MUTUAL_GUILDS = 50278


class Verdict(Enum):
    RETRY = "retry"  # transient: try again after a wait
    GIVE_UP = "give_up"  # refused for good: record and never retry


@dataclass(slots=True)
class ActionFailed(Exception):
    status: int
    code: int | None
    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"HTTP {self.status} (code {self.code}): {self.message}"

    @property
    def verdict(self) -> Verdict:
        # 40003 (opening DMs too fast) is a rate limit in disguise: wait, then retry.
        if self.status == 429 or self.code == OPENING_DMS_TOO_FAST:
            return Verdict.RETRY
        if self.status >= 500 or self.status == 0:
            return Verdict.RETRY
        # 4xx: 401/403 count toward Discord's invalid-request ban; never repeat them.
        return Verdict.GIVE_UP


class ActionGateway(Protocol):
    async def add_role(self, guild_id: int, user_id: int, role_id: int, reason: str) -> None: ...

    async def remove_role(self, guild_id: int, user_id: int, role_id: int, reason: str) -> None: ...

    async def has_role(self, guild_id: int, user_id: int, role_id: int) -> bool:
        """Whether the member holds the role now (a read, never a change)."""
        ...

    async def send_dm(self, user_id: int, text: str, nonce: str) -> int:
        """Send a DM; returns the message id. Raises ActionFailed."""
        ...

    async def send_reply(
        self, channel_id: int, message_id: int, text: str, nonce: str, *, silent: bool = False
    ) -> int:
        """Reply to a message without pinging anyone (`silent`: no push notification
        either); refused if the message is gone. Returns the message id."""
        ...
