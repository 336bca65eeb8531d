"""The policy in force: a broken edit is reported and the previous policy stays."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.policy import PolicyError
from bot.service.events import Event, EventBus, PolicyBroken, PolicyReloaded
from bot.service.policy_holder import PolicyHolder
from tests.service.helpers import POLICY_TEXT, eventually, write_policy

BROKEN = POLICY_TEXT.replace("then: {observe: 2h}", "then: {observe: soon}")
EDITED = POLICY_TEXT.replace("dms_per_day: 40", "dms_per_day: 7")


def bump_mtime(path: Path, seconds: int) -> None:
    """Coarse file systems may keep the mtime of a quick edit: move it on explicitly."""
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + seconds))


def test_load_refuses_a_broken_file_at_start(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    with pytest.raises(PolicyError):
        PolicyHolder.load(path)


def test_a_broken_edit_is_reported_logged_and_the_old_policy_stays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = write_policy(tmp_path / "policy.yaml")
    before = holder.current
    (tmp_path / "policy.yaml").write_text(BROKEN)

    with caplog.at_level(logging.ERROR, logger="bot.service.policy_holder"):
        error = holder.reload()

    assert isinstance(error, PolicyError)
    assert error.problems
    text = str(error)
    assert "policy.yaml" in text and "observe" in text  # names the file and the field
    assert holder.current is before
    assert any(
        r.levelno == logging.ERROR and "previous one stays in force" in r.getMessage()
        for r in caplog.records
    )


def test_a_good_edit_swaps_in_the_new_version(tmp_path: Path) -> None:
    holder = write_policy(tmp_path / "policy.yaml")
    old = holder.current
    (tmp_path / "policy.yaml").write_text(EDITED)
    assert holder.reload() is None
    assert holder.current.version != old.version
    assert holder.current.limits.dms_per_day == 7


def test_a_fixed_file_after_a_broken_edit_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    holder = write_policy(path)
    path.write_text(BROKEN)
    assert holder.reload() is not None
    path.write_text(EDITED)
    assert holder.reload() is None
    assert holder.current.limits.dms_per_day == 7


async def test_watching_picks_up_an_mtime_change(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    holder = PolicyHolder.load(write_policy(path).path)
    errors: list[PolicyError] = []

    async def on_error(error: PolicyError) -> None:
        errors.append(error)

    holder.start_watching(interval=0.01, on_error=on_error)
    try:
        path.write_text(EDITED)
        bump_mtime(path, 10)
        await asyncio.wait_for(_until(lambda: holder.current.limits.dms_per_day == 7), 5)
        good = holder.current

        path.write_text(BROKEN)
        bump_mtime(path, 20)
        await asyncio.wait_for(_until(lambda: bool(errors)), 5)
        assert holder.current is good
        assert len(errors) == 1  # reported once per edit, not on every poll
        await asyncio.sleep(0.05)
        assert len(errors) == 1
    finally:
        await asyncio.wait_for(holder.stop(), 5)


async def test_stop_ends_the_watch(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    holder = write_policy(path)
    holder.start_watching(interval=0.01)
    await asyncio.wait_for(holder.stop(), 5)
    path.write_text(EDITED)
    bump_mtime(path, 10)
    await asyncio.sleep(0.05)
    assert holder.current.limits.dms_per_day == 40


async def _until(check: Callable[[], bool]) -> None:
    async def holds() -> bool:
        return check()

    await eventually(holds, timeout=5)


def test_a_reload_and_a_broken_edit_are_told_as_events(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    events = EventBus()
    told: list[Event] = []
    events.subscribe(told.append)
    holder = PolicyHolder.load(write_policy(path).path, events)
    first = holder.current.version
    path.write_text(BROKEN)
    assert holder.reload() is not None
    path.write_text(EDITED)
    assert holder.reload() is None
    assert holder.reload() is None  # the same version again: nothing to tell
    broken, reloaded = told
    assert isinstance(broken, PolicyBroken)
    assert (broken.path, broken.version_in_force) == (path, first)
    assert broken.problems and "policy.yaml" in broken.problems
    assert reloaded == PolicyReloaded(path, holder.current.version)
    assert holder.current.version != first
