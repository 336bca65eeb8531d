"""The crash test's short version (issue 10), run in CI: the real bot killed a few times
with SIGKILL while members join, leave and rejoin; every rule must hold."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from benchmarks.crash_test import main, parse_options


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    out = io.StringIO()
    workdir = tmp_path_factory.mktemp("crash")
    with contextlib.redirect_stdout(out):
        code = main(["--quick", "--seed", "1", "--workdir", str(workdir)])
    return code, out.getvalue()


def figure(report: str, name: str) -> int:
    found = re.search(rf"^  {re.escape(name)}: (\d+)$", report, re.MULTILINE)
    assert found, report
    return int(found.group(1))


def test_the_quick_crash_test_plays_its_whole_story(quick_run: tuple[int, str]) -> None:
    code, report = quick_run
    assert code in (0, 1), report
    assert figure(report, "bot starts") == 5  # 4 kills, then the start that settles
    assert "40 joins" in report
    assert figure(report, "decisions") >= 40  # the bot really ran and decided
    assert figure(report, "role PUTs accepted") > 0
    assert figure(report, "DMs delivered") > 0
    assert re.search(r"^total defects: \d+$", report, re.MULTILINE), report


def test_the_quick_crash_test_finds_no_defect(quick_run: tuple[int, str]) -> None:
    code, report = quick_run
    assert "total defects: 0" in report, report
    assert code == 0


def test_quick_means_few_kills_and_members_whatever_else_is_asked() -> None:
    options = parse_options(["--quick", "--kills", "50", "--members", "1000"])
    assert (options.kills, options.members) == (4, 40)  # under two minutes in CI
