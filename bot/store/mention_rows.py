"""What the store takes and returns about mentions: frozen dataclasses, aware UTC times."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.kinds import MentionStatus
from bot.store.rows import row_decoder


@dataclass(frozen=True, slots=True)
class MentionInput:
    """A message that mentions the owner or the bot, or replies to the owner, as seen."""

    guild_id: int
    channel_id: int
    message_id: int
    author_id: int
    author_name: str
    posted_at: datetime
    text: str | None = None  # None: unknown (no message-content intent)
    mentions_owner: bool = False
    mentions_bot: bool = False
    replies_to_owner: bool = False
    author_kind: str = "user"  # user, bot, webhook, system
    channel_name: str = ""
    parent_id: int = 0
    parent_name: str = ""
    source: str = "live"  # live or catch_up


@dataclass(frozen=True, slots=True)
class MentionVerdict:
    """The decision stored with a mention, and where that leaves it."""

    rule: str
    action: str
    template: str | None
    explanation: str
    policy_version: str
    status: MentionStatus
    outcome: str | None = None
    wait_until: datetime | None = None  # status WAITING: the MENTION_WAIT timer's due time


@dataclass(frozen=True, slots=True)
class MentionRow:
    id: int
    guild_id: int
    channel_id: int
    channel_name: str
    parent_id: int
    parent_name: str
    message_id: int
    author_id: int
    author_name: str
    author_kind: str
    text: str | None
    mentions_owner: bool
    mentions_bot: bool
    replies_to_owner: bool
    posted_at: datetime
    source: str
    stored_at: datetime
    rule: str | None
    action: str | None
    template: str | None
    explanation: str | None
    policy_version: str | None
    decided_at: datetime | None
    status: str
    outcome: str | None
    timer_id: int | None
    outbox_id: int | None
    variant: int | None
    settled_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReplyRoom:
    """What the reply limits need to know, read in one query."""

    last_same_reply: datetime | None  # this person, this template (the cooldown)
    channel_replies: int  # replies queued in the channel since the budget's hour began
    last_variant: int | None  # the variant this person last got of this template


mention_row: Callable[[Sequence[Any]], MentionRow] = row_decoder(MentionRow)
