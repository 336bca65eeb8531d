"""What the store takes and returns: frozen dataclasses, aware UTC datetimes, no SQL types.

A row class's fields are its table's columns, in the order the store selects them
(``columns``); the row decoders below turn a selected tuple back into the row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from bot.policy.decision import Action, Decision, Miss
from bot.store.db import from_db, from_db_or_none, load_json
from bot.store.kinds import EventKind, OutboxKind, TimerKind


def columns(row_type: Any) -> str:
    """The column list of a row class: its field names, in order."""
    return ", ".join(f.name for f in fields(row_type))


# --- inputs ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A Discord user as the Discord layer saw it at join time.

    Every field but ``user_id`` is a column of the members table, refreshed from
    Discord at each join (``MemberRow`` extends this class with what the bot counts).
    """

    user_id: int
    username: str
    global_name: str | None = None
    nick: str | None = None
    bot: bool = False
    spammer: bool = False
    default_avatar: bool = False
    created_at: datetime | None = None

    @property
    def display_name(self) -> str:
        """The name shown in the server: nickname, else global name, else username."""
        return self.nick or self.global_name or self.username


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An outbox action to queue (``kind``: an ``OutboxKind``)."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None  # None: as soon as possible (the time it is queued)


@dataclass(frozen=True, slots=True)
class TimerSpec:
    """A timer to schedule with a decision (``kind``: a ``TimerKind``)."""

    kind: str
    due: datetime


@dataclass(frozen=True, slots=True)
class JoinInput:
    guild_id: int
    user: UserInfo
    joined_at: datetime
    pending: bool = False
    kind: str = EventKind.JOIN  # join or catch_up
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


def event_row(raw: Sequence[Any]) -> EventRow:
    return EventRow(
        raw[0], raw[1], raw[2], raw[3], load_json(raw[4]), from_db(raw[5]), from_db_or_none(raw[6])
    )


# Field metadata: an activity counter ("since joining": it starts again on a rejoin).
SINCE_JOINING = "since_joining"


def _counter() -> Any:
    return field(default=0, metadata={SINCE_JOINING: True})


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRow(UserInfo):
    """A stored member: what Discord said (``UserInfo``) and what the bot counted.

    The one definition of the members table's columns: the store's SQL column lists,
    the row decoder, a new member's row and the policy's facts all follow from these
    fields. Defaults are the table's SQL defaults (a test holds them together).
    """

    guild_id: int
    joined_at: datetime | None = None
    left_at: datetime | None = None
    present: bool = True
    pending: bool = False
    times_joined: int = 0
    times_rejoined: int = 0
    churned: int = 0
    messages: int = _counter()
    links: int = _counter()
    invites: int = _counter()
    attachments: int = _counter()
    everyone_pings: int = _counter()
    owner_mentions: int = _counter()
    followed: bool = False
    followed_at: datetime | None = None
    unfollowed_by_owner: bool = False
    declined_before: bool = False
    last_decision_id: int | None = None
    first_seen_at: datetime
    updated_at: datetime


def generated(name: str, params: str, returns: str, namespace: dict[str, Any]) -> Any:
    """A one-expression function written from field lists, for a hot path: as fast as
    one written out by hand, without writing the fields out again (as dataclasses do)."""
    source = f"def {name}({params}):\n    return {returns}\n"
    exec(source, namespace)  # the text is made of field names only
    return namespace[name]


# Stored value to Python, by a field's annotation; any other value is used as stored.
_DECODE = {"bool": "bool({})", "datetime": "from_db({})", "datetime | None": "from_db_or_none({})"}
MEMBER_FIELDS = tuple(f.name for f in fields(MemberRow))

member_row: Callable[[Sequence[Any]], MemberRow] = generated(
    "member_row",
    "raw",
    "MemberRow({})".format(
        ", ".join(
            f"{f.name}={_DECODE.get(str(f.type), '{}').format(f'raw[{i}]')}"
            for i, f in enumerate(fields(MemberRow))
        )
    ),
    {"MemberRow": MemberRow, "from_db": from_db, "from_db_or_none": from_db_or_none},
)
member_row.__doc__ = "A members row selected with ``columns(MemberRow)``, decoded."


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
    kind: OutboxKind
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


def outbox_row(raw: Sequence[Any]) -> OutboxRow:
    return OutboxRow(
        id=raw[0],
        decision_id=raw[1],
        guild_id=raw[2],
        user_id=raw[3],
        kind=OutboxKind(raw[4]),
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
    kind: TimerKind
    due: datetime
    decision_id: int | None
    status: str
    created_at: datetime
    finished_at: datetime | None
    outcome: str | None


def timer_row(raw: Sequence[Any]) -> TimerRow:
    return TimerRow(
        id=raw[0],
        guild_id=raw[1],
        user_id=raw[2],
        kind=TimerKind(raw[3]),
        due=from_db(raw[4]),
        decision_id=raw[5],
        status=raw[6],
        created_at=from_db(raw[7]),
        finished_at=from_db_or_none(raw[8]),
        outcome=raw[9],
    )
