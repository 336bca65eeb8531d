"""The scale benchmark (issue 14): its --quick run end to end as a user starts it, and the
pieces that decide what it reports (the checks, the day's drift, the profile's folding)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks._scale_checks import Checked
from benchmarks._scale_profile import fold
from benchmarks.scale_bench import Day

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_report() -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale_bench", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def seconds(report: str, label: str) -> float:
    found = re.search(rf"{re.escape(label)}\s+([\d.]+) s", report)
    assert found, report
    return float(found.group(1))


def test_quick_run_starts_both_clients_and_passes_its_checks(
    quick_report: tuple[int, str],
) -> None:
    code, report = quick_report
    assert code == 0, report
    assert "all checks passed" in report
    # Both sides really reached their mark on the chunked guild.
    assert seconds(report, "bare: spawn -> on_ready, guild chunked") > 0
    assert seconds(report, "bot: spawn -> caught up") > 0
    # The run log's own count of the offline changes, beside the database's.
    assert "offline joins decided 100/100" in report
    assert "leaves recorded 50/50" in report
    assert "run log: 100 new, 50 left" in report
    assert "timers kept 1,000/1,000" in report
    assert "outbox kept 100/100" in report
    assert re.search(r"bot  VmRSS warm \d+ MB -> end \d+ MB", report), report


def complete() -> Checked:
    return Checked(
        joins_decided=10,
        joins_expected=10,
        leaves_recorded=5,
        leaves_expected=5,
        present=100,
        present_expected=100,
        timers=Counter({"scheduled": 8, "fired": 2}),
        timers_expected=10,
        timers_settled_ok=2,
        outbox=Counter({"pending": 3, "done": 1}),
        outbox_expected=4,
    )


def test_checks_pass_only_when_everything_is_accounted_for() -> None:
    assert complete().problems() == []
    undecided = complete()
    undecided.joins_decided = 9
    assert undecided.problems() == ["offline joins decided 9 of 10"]
    lost_timer = complete()
    lost_timer.timers = Counter({"scheduled": 8, "cancelled": 1, "fired": 1})
    lost_timer.timers_settled_ok = 1
    assert [p.split(" (")[0] for p in lost_timer.problems()] == ["timers kept 9 of 10"]
    failed_row = complete()
    failed_row.outbox = Counter({"pending": 3, "failed": 1})
    assert [p.split(" (")[0] for p in failed_row.problems()] == ["outbox rows kept 3 of 4"]


def test_a_timer_settled_without_a_good_outcome_is_not_kept() -> None:
    checked = complete()
    checked.timers_settled_ok = 1
    assert checked.timers_kept == 9


def test_day_drift_is_measured_from_a_quarter_of_the_way_in() -> None:
    samples = [(1.0, 50), (2.0, 100), (3.0, 100), (4.0, 100), (8.0, 110)]
    warm, end, percent = Day.drift(samples)
    assert (warm, end) == (100, 110)  # the first sample at or after 8 / 4 = 2 s
    assert percent == pytest.approx(10.0)


def test_profile_folding_counts_each_function_once_per_stack(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text(
        "main (/work/main/bot/app.py:1);f (x.py:2);f (x.py:2);g (x.py:3) 3\n"
        "main (/work/main/bot/app.py:1);h (/v/site-packages/discord/state.py:9) 1\n"
    )
    total, inclusive, own = fold(raw)
    assert total == 4
    assert inclusive["f (x.py)"] == 3  # recursion counted once
    assert inclusive["main (bot/app.py)"] == 4
    assert own == Counter({"g (x.py)": 3, "h (discord/state.py)": 1})
