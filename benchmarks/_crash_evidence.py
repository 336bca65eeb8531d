"""What the crash test reads back at the end: the bot's database (read-only) and the
stand-in's record of every request and of every DM it delivered.

Each decision, role change and message is tied to one of the member's stays (see
_crash_world.Members): decisions by the `joined_at` of the join event they answer,
requests and messages by the moment they reached the stand-in.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._crash_procs import Control, utcnow
from benchmarks._crash_world import Members, Stay

_ROLE_PATH = re.compile(r"^/guilds/\d+/members/(\d+)/roles/\d+$")
_MESSAGE_PATH = re.compile(r"^/channels/\d+/messages$")
_TEMPLATE = re.compile(r"^\[(\w+)\]")
# The outbox row behind a message nonce: the database's 6-letter prefix, then the row id
# (bot/store/nonces.py); "fb-" is the form before the prefix.
_NONCE = re.compile(r"^(?:[a-z]{6}|fb-)(\d+)$")


@dataclass(frozen=True)
class Decision:
    id: int
    user_id: int
    action: str
    due: datetime | None
    observed: bool
    decided_at: datetime
    event_payload: dict[str, Any]


@dataclass(frozen=True)
class Timer:
    id: int
    user_id: int
    kind: str
    due: datetime
    status: str
    decision_id: int | None


@dataclass(frozen=True)
class Attempt:
    """A role PUT, DM opening or message POST the bot sent, as the stand-in recorded it."""

    kind: str  # "role", "open_dm" or "message"
    user_id: int | None  # None: a message whose nonce names no outbox row
    at: datetime
    status: int
    path: str
    nonce: str | None
    allowed_mentions: Any
    held: bool = False  # carried out, its answer held (the crash test kills the bot meanwhile)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Delivered:
    """A DM the stand-in delivered to a member (a nonce answered twice is one message)."""

    user_id: int
    at: datetime
    template: str | None
    nonce: str | None
    outbox_id: int | None
    allowed_mentions: Any


@dataclass
class Evidence:
    decisions: list[Decision]
    timers: dict[int, Timer]
    outbox_user: dict[int, int]  # outbox row id -> member
    outbox_decision: dict[int, int | None]  # outbox row id -> decision id
    open_outbox: int  # rows still pending or sending
    attempts: list[Attempt]
    delivered: list[Delivered]
    request_count: int

    def __post_init__(self) -> None:
        self._by_id = {d.id: d for d in self.decisions}

    def decision(self, decision_id: int | None) -> Decision | None:
        return None if decision_id is None else self._by_id.get(decision_id)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def read_database(path: Path) -> tuple[list[Decision], dict[int, Timer], list[sqlite3.Row]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        decisions = [
            Decision(
                row["id"],
                row["user_id"],
                row["action"],
                _time(row["due"]),
                bool(row["observed"]),
                datetime.fromisoformat(row["decided_at"]),
                json.loads(row["payload"] or "{}"),
            )
            for row in conn.execute(
                "SELECT d.id, d.user_id, d.action, d.due, d.observed, d.decided_at, e.payload"
                " FROM decisions d LEFT JOIN events e ON e.id = d.event_id ORDER BY d.id"
            )
        ]
        timers = {
            row["id"]: Timer(
                row["id"],
                row["user_id"],
                row["kind"],
                datetime.fromisoformat(row["due"]),
                row["status"],
                row["decision_id"],
            )
            for row in conn.execute(
                "SELECT id, user_id, kind, due, status, decision_id FROM timers"
            )
        }
        outbox = conn.execute("SELECT id, user_id, decision_id, status FROM outbox").fetchall()
    finally:
        conn.close()
    return decisions, timers, outbox


def open_work(path: Path) -> tuple[int, int]:
    """(outbox rows pending or sending, timers still scheduled and due within a minute),
    read while the bot runs; (-1, -1) while there is no database to read. Timers due later
    (tomorrow's digest) are not work this test waits for."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute(
                "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
            ).fetchone()[0]
            soon = (utcnow() + timedelta(minutes=1)).isoformat(timespec="microseconds")
            timers = conn.execute(
                "SELECT count(*) FROM timers WHERE status = 'scheduled' AND due <= ?", (soon,)
            ).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return -1, -1
    return int(rows), int(timers)


def gather(control: Control, database: Path, members: Members) -> Evidence:
    decisions, timers, outbox = read_database(database)
    outbox_user = {int(row["id"]): int(row["user_id"]) for row in outbox}
    outbox_decision = {int(row["id"]): row["decision_id"] for row in outbox}
    open_rows = sum(1 for row in outbox if row["status"] in ("pending", "sending"))
    requests = control.requests()
    attempts = [a for r in requests if (a := _attempt(r, outbox_user)) is not None]
    delivered = [
        _delivered(uid, message)
        for uid in members.stays
        for message in control.call("dms_to", user_id=uid)
    ]
    return Evidence(
        decisions,
        timers,
        outbox_user,
        outbox_decision,
        open_rows,
        attempts,
        delivered,
        len(requests),
    )


def _outbox_id(nonce: object) -> int | None:
    found = _NONCE.match(nonce) if isinstance(nonce, str) else None
    return int(found.group(1)) if found else None


def _attempt(request: dict[str, Any], outbox_user: dict[int, int]) -> Attempt | None:
    method, path = request["method"], request["path"]
    at, status = datetime.fromisoformat(request["at"]), int(request["status"])
    held = bool(request.get("held"))  # its answer was held: the bot was killed meanwhile
    body = request.get("json") or {}
    if method == "PUT" and (found := _ROLE_PATH.match(path)):
        return Attempt("role", int(found.group(1)), at, status, path, None, None, held)
    if method == "POST" and path == "/users/@me/channels":
        recipient = int(body.get("recipient_id", 0))
        return Attempt("open_dm", recipient, at, status, path, None, None)
    if method == "POST" and _MESSAGE_PATH.match(path):
        nonce = body.get("nonce")
        row = _outbox_id(nonce)
        member = outbox_user.get(row) if row is not None else None
        mentions = body.get("allowed_mentions")
        return Attempt("message", member, at, status, path, nonce, mentions, held)
    return None


def _delivered(user_id: int, message: dict[str, Any]) -> Delivered:
    found = _TEMPLATE.match(message.get("content") or "")
    nonce = message.get("nonce")
    return Delivered(
        user_id,
        datetime.fromisoformat(message["timestamp"]),
        found.group(1) if found else None,
        nonce,
        _outbox_id(nonce),
        message.get("allowed_mentions"),
    )


def decision_stay(decision: Decision, evidence: Evidence, members: Members) -> Stay | None:
    """The stay a decision answers: its join event's `joined_at`; an observe window's second
    decision answers the stay of the first; otherwise the stay it was made in."""
    joined = decision.event_payload.get("joined_at")
    if isinstance(joined, str):
        return members.stay_joined(decision.user_id, datetime.fromisoformat(joined))
    timer = evidence.timers.get(int(decision.event_payload.get("timer_id") or 0))
    first = evidence.decision(timer.decision_id) if timer is not None else None
    if first is not None and first.id != decision.id:
        return decision_stay(first, evidence, members)
    return members.stay_at(decision.user_id, decision.decided_at)


def pings(allowed_mentions: Any) -> bool:
    """Whether a message could ping anyone: no allowed_mentions, or one that allows some."""
    if not isinstance(allowed_mentions, dict):
        return True
    return bool(
        allowed_mentions.get("parse")
        or allowed_mentions.get("users")
        or allowed_mentions.get("roles")
        or allowed_mentions.get("replied_user")
    )
