"""What the engine knows about a member or a mention: plain data, no Discord types.

This module is a contract shared by the policy engine, the store and the Discord
layer. Fields may be added (with defaults); existing names must not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """Everything a follower rule can test, gathered at decision time."""

    id: int
    username: str
    global_name: str | None = None
    nick: str | None = None
    bot: bool = False
    spammer: bool = False
    # Account creation and guild join times; ages are computed against `now`.
    created_at: datetime | None = None
    joined_at: datetime | None = None
    default_avatar: bool = False
    roles: frozenset[str] = frozenset()  # role names (and ids as strings)
    messages: int = 0  # messages sent since joining
    links: int = 0
    invites: int = 0
    attachments: int = 0
    everyone_pings: int = 0  # attempts to ping @everyone/@here
    owner_mentions: int = 0  # mentions of the owner since joining
    followed: bool = False  # the owner already follows them (holds the follow-back role)
    observed: bool = False  # second decision, after an observe window
    times_rejoined: int = 0
    churned: int = 0  # times they left soon after being followed back
    declined_before: bool = False
    # Join times of everyone in the guild recently (for surge rules), oldest first.
    # One tuple is shared by every member decided in a batch, so it is never copied.
    recent_joins: tuple[datetime, ...] = field(default=())

    @property
    def display_name(self) -> str:
        """The name shown in the server: nickname, else global name, else username."""
        return self.nick or self.global_name or self.username


@dataclass(frozen=True, slots=True)
class MentionFacts:
    """A message that mentions the owner or the bot, or replies to the owner."""

    author: MemberFacts
    text: str = ""  # empty when the message-content intent is missing (then text_known=False)
    mentions_owner: bool = False
    mentions_bot: bool = False
    replies_to_owner: bool = False
    # False without the MESSAGE_CONTENT intent: text rules then cannot match (unknown, not "").
    text_known: bool = True
    channel_id: int = 0
    channel_name: str = ""
    # A thread's parent channel, so `channel: general` also covers threads in #general.
    parent_id: int = 0
    parent_name: str = ""


def _fields_typed(*annotations: str, skip: tuple[str, ...] = ()) -> tuple[str, ...]:
    # Annotations are strings here (postponed evaluation); field order is kept.
    return tuple(
        f.name for f in fields(MemberFacts) if f.type in annotations and f.name not in skip
    )


# The member's facts by kind, read off MemberFacts itself so the grammar, the schema
# and the example specs never list them again.
BOOL_FIELDS = _fields_typed("bool")
COUNT_FIELDS = _fields_typed("int", skip=("id",))
NAME_FIELDS = _fields_typed("str", "str | None")
