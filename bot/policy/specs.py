"""Members and mentions written by people (policy examples, `explain --member`).

Ages are written relative to a reference time: `account_age: 2d` means the
account was created two days before it. Unwritten ages default to a year-old
account that has just joined (the usual new follower).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.policy.durations import parse_duration
from bot.policy.facts import BOOL_FIELDS, COUNT_FIELDS, NAME_FIELDS, MemberFacts, MentionFacts
from bot.policy.vocab import did_you_mean

# Examples in policy files are decided at this fixed time, so they never rot.
EXAMPLE_NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
DEFAULT_ACCOUNT_AGE = timedelta(days=365)

_BOOLS = BOOL_FIELDS
_COUNTS = COUNT_FIELDS
_TEXTS = NAME_FIELDS
MEMBER_KEYS = (
    "name",
    "id",
    *_TEXTS,
    *_BOOLS,
    *_COUNTS,
    "account_age",
    "in_server",
    "created_at",
    "joined_at",
    "roles",
    "recent_joins",
)
MENTION_KEYS = (
    "text",
    "author",
    "mentions_owner",
    "mentions_bot",
    "replies_to_owner",
    "channel",
    "thread_of",
)


class SpecError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key, self.message = key, message


def _known(keys: tuple[str, ...]) -> str:
    return ", ".join(sorted(keys))


def _time(key: str, value: Any) -> datetime:
    if not isinstance(value, str):
        raise SpecError(key, "expected an ISO time such as 2025-01-01T12:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SpecError(key, f"bad ISO time {value!r}") from exc
    if parsed.tzinfo is None:
        raise SpecError(key, f"{value!r} needs a timezone, e.g. {value}Z")
    return parsed


def _ago(key: str, value: Any, now: datetime) -> datetime:
    try:
        return now - parse_duration(value)
    except ValueError as exc:
        raise SpecError(key, str(exc)) from exc


def _default_id(name: str) -> int:
    # Stable across runs, so random windows in examples are stable too.
    return int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)


def member_from_spec(spec: Any, now: datetime) -> MemberFacts:
    """Build MemberFacts from {name, id, bot, account_age: 2d, ...}; SpecError names the key."""
    if not isinstance(spec, dict):
        raise SpecError("member", "expected a mapping such as {name: ada, account_age: 30d}")
    for key in spec:
        if key not in MEMBER_KEYS:
            hint = did_you_mean(str(key), MEMBER_KEYS)
            raise SpecError(
                str(key), f"unknown member fact{hint}; known facts: {_known(MEMBER_KEYS)}"
            )
    out: dict[str, Any] = {}
    name = spec.get("name", spec.get("username", "someone"))
    if not isinstance(name, str) or not name:
        raise SpecError("name", "expected text")
    out["username"] = name
    for key in _TEXTS:
        if key in spec:
            if spec[key] is not None and not isinstance(spec[key], str):
                raise SpecError(key, "expected text")
            out[key] = spec[key] if spec[key] is not None or key != "username" else name
    raw_id = spec.get("id", _default_id(name))
    if isinstance(raw_id, str) and raw_id.isdigit():
        raw_id = int(raw_id)
    if not isinstance(raw_id, int) or isinstance(raw_id, bool) or raw_id < 0:
        raise SpecError("id", "expected a Discord id (a whole number)")
    out["id"] = raw_id
    for key in _BOOLS:
        if key in spec:
            if not isinstance(spec[key], bool):
                raise SpecError(key, "expected true or false")
            out[key] = spec[key]
    for key in _COUNTS:
        if key in spec:
            value = spec[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SpecError(key, "expected a whole number ≥ 0")
            out[key] = value
    out["created_at"] = (
        _time("created_at", spec["created_at"])
        if "created_at" in spec
        else _ago("account_age", spec.get("account_age", "365d"), now)
    )
    out["joined_at"] = (
        _time("joined_at", spec["joined_at"])
        if "joined_at" in spec
        else _ago("in_server", spec.get("in_server", "0s"), now)
    )
    roles = spec.get("roles", [])
    if not isinstance(roles, list) or not all(
        isinstance(r, (str, int)) and not isinstance(r, bool) for r in roles
    ):
        raise SpecError("roles", "expected a list of role names or ids")
    out["roles"] = frozenset(str(r) for r in roles)
    out["recent_joins"] = _joins(spec.get("recent_joins", []), now)
    return MemberFacts(**out)


def _joins(value: Any, now: datetime) -> tuple[datetime, ...]:
    # `recent_joins: 40` = forty joins in the last minute; or a list of "how long ago".
    # Sorted oldest first, as MemberFacts promises.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100_000:
        return tuple(sorted(now - timedelta(seconds=60 * i / max(value, 1)) for i in range(value)))
    if isinstance(value, list):
        return tuple(sorted(_ago("recent_joins", v, now) for v in value))
    raise SpecError("recent_joins", "expected a count or a list of durations ago")


def mention_from_spec(spec: Any, now: datetime, message_content: bool = True) -> MentionFacts:
    """Build MentionFacts from {text, author: {...}, mentions_owner (default true), ...}.

    `text: null` (or message_content=False: the bot lacks the MESSAGE_CONTENT intent)
    makes the text unknown, so text rules cannot match. `channel` and `thread_of` take
    a channel name or id.
    """
    if not isinstance(spec, dict):
        raise SpecError("mention", "expected a mapping such as {text: 'hi', author: {name: ada}}")
    for key in spec:
        if key not in MENTION_KEYS:
            hint = did_you_mean(str(key), MENTION_KEYS)
            raise SpecError(
                str(key), f"unknown mention fact{hint}; known facts: {_known(MENTION_KEYS)}"
            )
    text = spec.get("text", "")
    if text is not None and not isinstance(text, str):
        raise SpecError("text", "expected text, or null for unknown (no message-content intent)")
    known = text is not None and message_content
    flags: dict[str, bool] = {}
    for key, default in (
        ("mentions_owner", True),
        ("mentions_bot", False),
        ("replies_to_owner", False),
    ):
        value = spec.get(key, default)
        if not isinstance(value, bool):
            raise SpecError(key, "expected true or false")
        flags[key] = value
    try:
        author = member_from_spec(spec.get("author", {}), now)
    except SpecError as exc:
        raise SpecError(f"author.{exc.key}", exc.message) from exc
    channel_id, channel_name = _channel("channel", spec.get("channel"))
    parent_id, parent_name = _channel("thread_of", spec.get("thread_of"))
    return MentionFacts(
        author=author,
        text=text if known and text is not None else "",
        text_known=known,
        channel_id=channel_id,
        channel_name=channel_name,
        parent_id=parent_id,
        parent_name=parent_name,
        **flags,
    )


def _channel(key: str, value: Any) -> tuple[int, str]:
    """(id, name) from a channel name ("general", "#general") or id (123 or "123")."""
    if value is None:
        return 0, ""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, ""
    if isinstance(value, str) and value.strip().lstrip("#"):
        return 0, value.strip().lstrip("#")
    raise SpecError(key, "expected a channel name or id")
