"""Registered application commands: their JSON, and the daily limit on creating them
(interactions/application-commands.mdx: "There is a global rate limit of 200 application command
creates per day, per guild"; topics/opcodes-and-status-codes.mdx 30034)."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from bot.standin.httpkit import ApiError

Json = dict[str, Any]

DAY = 24 * 3600.0
DAILY_CREATES = 200
GLOBAL_SCOPE = 0  # the app's global commands count as one scope


class CommandCreates:
    """Commands created per scope (a guild, or the global commands) in a sliding window.

    Discord answers 400 with code 30034 once the limit is reached; tests shorten it with
    `set(limit, window)`."""

    def __init__(self, limit: int = DAILY_CREATES, window: float = DAY) -> None:
        self.limit = limit
        self.window = window
        self.made: dict[int, deque[float]] = {}

    def set(self, limit: int = DAILY_CREATES, window: float = DAY) -> None:
        self.limit, self.window = limit, window

    def used(self, scope: int) -> int:
        times = self.made.setdefault(scope, deque())
        clock = time.monotonic()
        while times and clock - times[0] >= self.window:
            times.popleft()
        return len(times)

    def take(self, scope: int, count: int) -> None:
        """Count `count` creates in `scope`, or refuse them all (30034) if over the limit."""
        if count <= 0:
            return
        if self.used(scope) + count > self.limit:
            raise ApiError(
                400,
                30034,
                f"Max number of daily application command creates has been reached ({self.limit})",
            )
        clock = time.monotonic()
        self.made[scope].extend([clock] * count)


def command_json(
    item: Json, command_id: int, app_id: int, guild_id: int | None, version: int
) -> Json:
    """An application command object as Discord returns it, from a create/overwrite body."""
    command: Json = {
        "id": str(command_id),
        "type": int(item.get("type", 1)),
        "application_id": str(app_id),
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
        "version": str(version),
    }
    if guild_id is not None:
        command["guild_id"] = str(guild_id)
    return command


EDITABLE = (
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "options",
    "default_member_permissions",
    "dm_permission",
    "nsfw",
    "contexts",
    "integration_types",
)


def edited(command: Json, body: Json) -> Json:
    """The command with the fields the edit body gives overwritten ("any fields provided will
    entirely overwrite the existing values of those fields")."""
    out = dict(command)
    out.update({key: body[key] for key in EDITABLE if key in body})
    return out


def find_by_name(store: dict[int, Json], name: str, kind: int) -> Json | None:
    for command in store.values():
        if command["name"] == name and int(command.get("type", 1)) == kind:
            return command
    return None
