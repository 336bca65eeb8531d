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
    stay: int | None = None  # the member's stay it was decided for (MemberRow.stay)


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

    @property
    def stay(self) -> int:
        """The member's current (or last) stay: stays are numbered by joins, from 1."""
        return self.times_joined


def generated(name: str, params: str, returns: str, namespace: dict[str, Any]) -> Any:
    """A one-expression function written from field lists, for a hot path: as fast as
    one written out by hand, without writing the fields out again (as dataclasses do)."""
    source = f"def {name}({params}):\n    return {returns}\n"
    exec(source, namespace)  # the text is made of field names only
    return namespace[name]


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
    row = _decision_row(raw)
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
    stay: int | None = None  # the member's stay it acts for (None: not about a stay)


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
    stay: int | None = None  # the member's stay it was set in


# --- decoders: a selected tuple back into its row --------------------------------------

# Stored value to Python, by a field's annotation; any other value is used as stored.
_DECODE = {
    "bool": "bool({})",
    "datetime": "from_db({})",
    "datetime | None": "from_db_or_none({})",
    "dict[str, Any]": "load_json({})",
    "dict[str, Any] | None": "load_json({})",
    "Action": "Action({})",
    "OutboxKind": "OutboxKind({})",
    "TimerKind": "TimerKind({})",
    "tuple[Miss, ...]": "misses_from_json({})",
}


def misses_from_json(text: str | None) -> tuple[Miss, ...]:
    return tuple(miss_from_json(item) for item in load_json(text) or ())


_DECODERS: dict[str, Any] = {
    "from_db": from_db,
    "from_db_or_none": from_db_or_none,
    "load_json": load_json,
    "misses_from_json": misses_from_json,
    "Action": Action,
    "OutboxKind": OutboxKind,
    "TimerKind": TimerKind,
}


def row_decoder(row_type: Any) -> Any:
    """``row(raw)`` for a tuple selected with ``columns(row_type)``, decoding each value
    by its field's annotation."""
    values = ", ".join(
        f"{f.name}={_DECODE.get(str(f.type), '{}').format(f'raw[{i}]')}"
        for i, f in enumerate(fields(row_type))
    )
    namespace = _DECODERS | {"Row": row_type}
    return generated(f"{row_type.__name__.lower()}_decoder", "raw", f"Row({values})", namespace)


MEMBER_FIELDS = tuple(f.name for f in fields(MemberRow))
member_row: Callable[[Sequence[Any]], MemberRow] = row_decoder(MemberRow)
event_row: Callable[[Sequence[Any]], EventRow] = row_decoder(EventRow)
outbox_row: Callable[[Sequence[Any]], OutboxRow] = row_decoder(OutboxRow)
timer_row: Callable[[Sequence[Any]], TimerRow] = row_decoder(TimerRow)
_decision_row: Callable[[Sequence[Any]], DecisionRow] = row_decoder(DecisionRow)
