"""`followback digest next`: when the next digests go out, in UTC and the owner's time.

The times come from the very functions the bot's scheduler calls
(bot.service.digest_schedule), so what this prints is what the bot will do, clock
changes included. Exit codes: 0 printed, 1 the policy has problems, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parser is built for every command: the policy engine loads lazily
    from bot.service.digest_schedule import DigestSchedule, DigestSlot

MAX_COUNT = 10_000


class _InputError(Exception):
    pass


def add_digest_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    digest = sub.add_parser(
        "digest",
        help="the daily digest: when it is sent",
        description="The daily digest of pending decisions.",
    )
    dsub = digest.add_subparsers(dest="digest_command", metavar="COMMAND", title="commands")
    nxt = dsub.add_parser(
        "next",
        help="print the next send times",
        description="Print the next times the digest is sent, in UTC and in the owner's "
        "local time (owner.timezone), as the bot's scheduler computes them: "
        "daylight-saving changes included.",
    )
    nxt.add_argument("--policy", required=True, metavar="FILE", help="the policy file (YAML)")
    nxt.add_argument(
        "--from",
        dest="start",
        metavar="TIME",
        help="ISO date or time to start after; without an offset it is the owner's local "
        "time (default: now)",
    )
    nxt.add_argument(
        "--count", type=int, default=7, metavar="N", help="how many (default: %(default)s)"
    )
    digest.set_defaults(_parser=digest)


def run_digest_command(args: argparse.Namespace) -> int:
    if args.digest_command != "next":
        print(f"error: unknown digest command {args.digest_command!r}", file=sys.stderr)
        return 2
    try:
        return digest_next(args.policy, args.start, args.count)
    except _InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def digest_next(path: str, start: str | None, count: int) -> int:
    from bot.policy import PolicyError, load_policy
    from bot.service.digest_schedule import DigestSchedule, upcoming

    if not 1 <= count <= MAX_COUNT:
        raise _InputError(f"--count: expected 1 to {MAX_COUNT}, not {count}")
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 1
    schedule = DigestSchedule.from_owner(policy.owner)
    now = _start(start, schedule.zone)
    plural = "s" if count != 1 else ""
    print(f"next {count} digest{plural} {_describe(schedule, policy.owner.timezone)}:")
    for slot in upcoming(schedule, now, count):
        print(slot_line(slot, schedule))
    return 0


def _describe(schedule: DigestSchedule, zone_name: str) -> str:
    from bot.policy.model import EVERY_DAY, WEEKDAYS

    days = (
        "every day"
        if schedule.days == EVERY_DAY
        else "on " + ", ".join(WEEKDAYS[d] for d in sorted(schedule.days))
    )
    return f"at {schedule.at:%H:%M} {zone_name}, {days}"


def slot_line(slot: DigestSlot, schedule: DigestSchedule) -> str:
    """One send time: local first (what the owner reads), then UTC, then any clock note."""
    from bot.service.digest_schedule import SlotKind

    local = slot.local(schedule.zone)
    line = f"{local:%a %Y-%m-%d %H:%M} {local:%Z} (UTC{_offset(local)})"
    line += f"  =  {slot.at:%a %Y-%m-%d %H:%M} UTC"
    at = f"{schedule.at:%H:%M}"
    if slot.kind is SlotKind.AFTER_GAP:
        line += f"  ({at} is skipped when the clocks go forward: sent when the gap ends)"
    elif slot.kind is SlotKind.FIRST_OF_REPEATED:
        line += f"  ({at} happens twice when the clocks go back: sent the first time only)"
    return line


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _start(text: str | None, zone: tzinfo) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _InputError(f"--from: bad ISO date or time {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)  # the owner's wall clock
    return parsed.astimezone(UTC)
