"""`followback digest next`: what it prints is what the scheduler will do."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.policy import load_policy
from bot.policy.model import Owner
from bot.service.digest_schedule import DigestSchedule, due_now, next_slot

LINE = re.compile(
    r"^(?P<lwd>\w{3}) (?P<local>\d{4}-\d\d-\d\d \d\d:\d\d) (?P<abbr>\S+)"
    r" \(UTC(?P<off>[+-]\d\d:\d\d)\)"
    r"  =  (?P<uwd>\w{3}) (?P<utc>\d{4}-\d\d-\d\d \d\d:\d\d) UTC"
    r"(?P<note>  \(.*\))?$"
)


def _policy(tmp_path: Path, zone: str, at: str, extra: str = "") -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        f'version: 1\nowner: {{timezone: {zone}, digest_at: "{at}"{extra}}}\n'
        "follow_back: {role: Mutuals}\nrules: [{name: everyone, then: follow_back}]\n"
    )
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(["digest", "next", *argv])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


@pytest.mark.parametrize(
    ("zone", "at", "extra"),
    [
        ("Europe/Berlin", "02:30", ""),
        ("America/New_York", "02:30", ", digest_days: [mon, sat, sun]"),
        ("Australia/Sydney", "02:30", ""),
        ("America/Santiago", "00:30", ""),
    ],
)
def test_a_years_output_matches_the_schedule_the_bot_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], zone: str, at: str, extra: str
) -> None:
    policy = _policy(tmp_path, zone, at, extra)
    code, lines, err = _run(
        capsys, "--policy", str(policy), "--from", "2025-01-01", "--count", "366"
    )
    assert code == 0, err
    header, rows = lines[0], lines[1:]
    assert header.startswith(f"next 366 digests at {at} {zone}")
    assert len(rows) == 366

    # The scheduler's own loop: wake at next_slot, send what due_now says is owed.
    tz = ZoneInfo(zone)
    schedule = DigestSchedule.from_owner(_owner(policy))
    now = datetime(2025, 1, 1, tzinfo=tz).astimezone(UTC)
    last: date | None = None
    notes = 0
    for row in rows:
        match = LINE.match(row)
        assert match, row
        wake = next_slot(schedule, last, now)
        owed = due_now(schedule, last, wake.at)
        assert owed == wake
        assert _utc(match["utc"]) == wake.at, row
        local = wake.at.astimezone(tz)
        assert match["local"] == local.strftime("%Y-%m-%d %H:%M")
        assert match["lwd"] == local.strftime("%a") and match["uwd"] == wake.at.strftime("%a")
        assert match["abbr"] == local.strftime("%Z")
        assert match["off"] == local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
        notes += match["note"] is not None
        last, now = owed.local_date, owed.at
    assert notes >= 1  # a clock change was met and said so


def _utc(text: str) -> datetime:
    return datetime.strptime(text + " +0000", "%Y-%m-%d %H:%M %z")


def _owner(policy: Path) -> Owner:
    return load_policy(policy).owner


def test_clock_changes_are_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = _policy(tmp_path, "Europe/Berlin", "02:30")
    _, lines, _ = _run(
        capsys, "--policy", str(policy), "--from", "2025-03-30T00:00", "--count", "1"
    )
    assert lines[1] == (
        "Sun 2025-03-30 03:00 CEST (UTC+02:00)  =  Sun 2025-03-30 01:00 UTC"
        "  (02:30 is skipped when the clocks go forward: sent when the gap ends)"
    )
    _, lines, _ = _run(
        capsys, "--policy", str(policy), "--from", "2025-10-26T00:00", "--count", "1"
    )
    assert lines[1] == (
        "Sun 2025-10-26 02:30 CEST (UTC+02:00)  =  Sun 2025-10-26 00:30 UTC"
        "  (02:30 happens twice when the clocks go back: sent the first time only)"
    )


def test_from_with_an_offset_is_that_instant_without_one_the_owners_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = _policy(tmp_path, "Asia/Tokyo", "09:00")
    # 08:30 in Tokyo is before 09:00; 08:30Z is 17:30 in Tokyo, after it.
    _, local, _ = _run(
        capsys, "--policy", str(policy), "--from", "2025-06-01T08:30", "--count", "1"
    )
    _, utc, _ = _run(capsys, "--policy", str(policy), "--from", "2025-06-01T08:30Z", "--count", "1")
    assert local[1].startswith("Sun 2025-06-01 09:00 JST")
    assert utc[1].startswith("Mon 2025-06-02 09:00 JST")


def test_default_is_a_week_from_now(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = _policy(tmp_path, "UTC", "09:00", ", digest_days: [tue]")
    code, lines, _ = _run(capsys, "--policy", str(policy))
    assert code == 0 and len(lines) == 8
    match = LINE.match(lines[1])
    assert match and _utc(match["utc"]) > datetime.now(UTC)
    assert all(line.startswith("Tue ") for line in lines[1:])
    assert time(9, 0).strftime("%H:%M") in lines[1]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--from", "yesterday"], 2, "--from: bad ISO date or time 'yesterday'"),
        (["--count", "0"], 2, "--count: expected 1 to"),
    ],
)
def test_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    policy = _policy(tmp_path, "UTC", "09:00")
    got, _, err = _run(capsys, "--policy", str(policy), *argv)
    assert got == code and message in err


def test_a_broken_policy_exits_1_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = _policy(tmp_path, "Mars/Olympus", "09:00")
    code, lines, err = _run(capsys, "--policy", str(policy))
    assert code == 1 and lines == []
    assert f"{policy}:2:" in err and "unknown timezone 'Mars/Olympus'" in err


def test_digest_alone_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest"]) == 0
    assert "next" in capsys.readouterr().out
