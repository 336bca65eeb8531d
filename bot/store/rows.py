"""What the store takes and returns: frozen dataclasses, aware UTC datetimes, no SQL types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.policy.decision import Action, Decision, Miss
from bot.store.db import from_db, from_db_or_none, load_json

# --- inputs ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A Discord user as the Discord layer saw it at join time."""

    user_id: int
    username: str
    global_name: str | None = None
    nick: str | None = None
    bot: bool = False
    spammer: bool = False
    default_avatar: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An outbox action to queue: kind is add_role, remove_role, dm or reply."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None  # None: as soon as possible (the time it is queued)


@dataclass(frozen=True, slots=True)
class TimerSpec:
    """A timer to schedule with a decision: kind is later or observe."""

    kind: str
    due: datetime


@dataclass(frozen=True, slots=True)
class JoinInput:
    guild_id: int
    user: UserInfo
    joined_at: datetime
    pending: bool = False
    kind: str = "join"  # join or catch_up
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DecisionInput:
    guild_id: int
    user_id: int
    event_id: int | None
    decision: Decision
    observed: bool = False
    actions: Sequence[ActionSpec] = ()
    timer: TimerSpec | None = None


# --- rows ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    guild_id: int
    user_id: int
    kind: str
    payload: dict[str, Any]
    at: datetime
    processed_at: datetime | None


EVENT_COLUMNS = "id, guild_id, user_id, kind, payload, at, processed_at"


def event_row(raw: Sequence[Any]) -> EventRow:
    return EventRow(
        raw[0], raw[1], raw[2], raw[3], load_json(raw[4]), from_db(raw[5]), from_db_or_none(raw[6])
    )


@dataclass(frozen=True, slots=True)
class MemberRow:
    guild_id: int
    user_id: int
    username: str
    global_name: str | None
    nick: str | None
    bot: bool
    spammer: bool
    default_avatar: bool
    created_at: datetime | None
    joined_at: datetime | None
    left_at: datetime | None
    present: bool
    pending: bool
    times_joined: int
    times_rejoined: int
    churned: int
    messages: int
    links: int
    invites: int
    attachments: int
    everyone_pings: int
    owner_mentions: int
    followed: bool
    followed_at: datetime | None
    unfollowed_by_owner: bool
    declined_before: bool
    last_decision_id: int | None
    first_seen_at: datetime
    updated_at: datetime

    @property
    def display_name(self) -> str:
        """The name shown in the server: nickname, else global name, else username."""
        return self.nick or self.global_name or self.username


MEMBER_COLUMNS = (
    "guild_id, user_id, username, global_name, nick, bot, spammer, default_avatar, "
    "created_at, joined_at, left_at, present, pending, times_joined, times_rejoined, churned, "
    "messages, links, invites, attachments, everyone_pings, owner_mentions, "
    "followed, followed_at, unfollowed_by_owner, declined_before, last_decision_id, "
    "first_seen_at, updated_at"
)


def member_row(raw: Sequence[Any]) -> MemberRow:
    return MemberRow(
        guild_id=raw[0],
        user_id=raw[1],
        username=raw[2],
        global_name=raw[3],
        nick=raw[4],
        bot=bool(raw[5]),
        spammer=bool(raw[6]),
        default_avatar=bool(raw[7]),
        created_at=from_db_or_none(raw[8]),
        joined_at=from_db_or_none(raw[9]),
        left_at=from_db_or_none(raw[10]),
        present=bool(raw[11]),
        pending=bool(raw[12]),
        times_joined=raw[13],
        times_rejoined=raw[14],
        churned=raw[15],
        messages=raw[16],
        links=raw[17],
        invites=raw[18],
        attachments=raw[19],
        everyone_pings=raw[20],
        owner_mentions=raw[21],
        followed=bool(raw[22]),
        followed_at=from_db_or_none(raw[23]),
        unfollowed_by_owner=bool(raw[24]),
        declined_before=bool(raw[25]),
        last_decision_id=raw[26],
        first_seen_at=from_db(raw[27]),
        updated_at=from_db(raw[28]),
    )


@dataclass(frozen=True, slots=True)
class DecisionRow:
    id: int
    guild_id: int
    user_id: int
    event_id: int | None
    rule: str
    action: Action
    due: datetime | None
    reply: str | None
    notify: str | None
    explanation: str
    misses: tuple[Miss, ...]
    policy_version: str
    observed: bool
    decided_at: datetime

    def to_decision(self) -> Decision:
        """The engine's Decision again (explain() gives back the stored explanation)."""
        return Decision(
            rule=self.rule,
            action=self.action,
            misses=self.misses,
            due=self.due,
            reply=self.reply,
            notify=self.notify,
            policy_version=self.policy_version,
        )


DECISION_COLUMNS = (
    "id, guild_id, user_id, event_id, rule, action, due, reply, notify, explanation, "
    "misses, policy_version, observed, decided_at"
)


def miss_from_json(item: dict[str, Any] | list[Any]) -> Miss:
    """A stored miss: [rule, condition, actual(, [parts])], or the same as an object."""
    if isinstance(item, list):
        parts = tuple(miss_from_json(part) for part in (item[3] if len(item) > 3 else ()))
        return Miss(rule=item[0], condition=item[1], actual=item[2], parts=parts)
    parts = tuple(miss_from_json(part) for part in item.get("parts") or ())
    return Miss(rule=item["rule"], condition=item["condition"], actual=item["actual"], parts=parts)


def decision_row(raw: Sequence[Any]) -> DecisionRow:
    misses = tuple(miss_from_json(item) for item in load_json(raw[10]) or ())
    row = DecisionRow(
        id=raw[0],
        guild_id=raw[1],
        user_id=raw[2],
        event_id=raw[3],
        rule=raw[4],
        action=Action(raw[5]),
        due=from_db_or_none(raw[6]),
        reply=raw[7],
        notify=raw[8],
        explanation=raw[9],
        misses=misses,
        policy_version=raw[11],
        observed=bool(raw[12]),
        decided_at=from_db(raw[13]),
    )
    if not row.explanation:
        # Written empty on the hot path: the words follow from the stored misses, so
        # they are rendered when someone reads them, not for every join of a burst.
        row = replace(row, explanation=row.to_decision().explain())
    return row


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    decision_id: int | None
    guild_id: int
    user_id: int
    kind: str
    payload: dict[str, Any]
    status: str
    attempts: int
    not_before: datetime
    last_error_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None
    result: dict[str, Any] | None


OUTBOX_COLUMNS = (
    "id, decision_id, guild_id, user_id, kind, payload, status, attempts, not_before, "
    "last_error_code, last_error, created_at, updated_at, done_at, result"
)


def outbox_row(raw: Sequence[Any]) -> OutboxRow:
    return OutboxRow(
        id=raw[0],
        decision_id=raw[1],
        guild_id=raw[2],
        user_id=raw[3],
        kind=raw[4],
        payload=load_json(raw[5]),
        status=raw[6],
        attempts=raw[7],
        not_before=from_db(raw[8]),
        last_error_code=raw[9],
        last_error=raw[10],
        created_at=from_db(raw[11]),
        updated_at=from_db(raw[12]),
        done_at=from_db_or_none(raw[13]),
        result=load_json(raw[14]),
    )


@dataclass(frozen=True, slots=True)
class TimerRow:
    id: int
    guild_id: int
    user_id: int
    kind: str
    due: datetime
    decision_id: int | None
    status: str
    created_at: datetime
    finished_at: datetime | None
    outcome: str | None


TIMER_COLUMNS = (
    "id, guild_id, user_id, kind, due, decision_id, status, created_at, finished_at, outcome"
)


def timer_row(raw: Sequence[Any]) -> TimerRow:
    return TimerRow(
        id=raw[0],
        guild_id=raw[1],
        user_id=raw[2],
        kind=raw[3],
        due=from_db(raw[4]),
        decision_id=raw[5],
        status=raw[6],
        created_at=from_db(raw[7]),
        finished_at=from_db_or_none(raw[8]),
        outcome=raw[9],
    )
