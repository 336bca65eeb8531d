"""Pause and resume, stats periods, policy change summaries, member status words."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.policy import load_policy_text
from bot.service.clock import ScaledClock
from bot.service.control import PauseControl
from bot.service.member_status import MemberStatus
from bot.service.owner import NO_GUILD, OwnerNotices
from bot.service.policy_changes import PolicyAnnouncer, change_summary
from bot.service.policy_holder import PolicyHolder
from bot.service.stats import StatsService
from bot.store import Store
from tests.service.helpers import OWNER, T0


async def test_pause_is_stored_and_read_again_at_start(store: Store) -> None:
    clock = ScaledClock(T0)
    resumed: list[bool] = []
    control = PauseControl(store, clock)
    control.on_resume(lambda: resumed.append(True))
    assert not await control.load()
    assert await control.pause(OWNER) and not await control.pause(OWNER)
    assert control.paused()
    again = PauseControl(store, clock)  # a restart
    assert await again.load() and again.paused()
    assert await control.resume(OWNER) and resumed == [True]
    assert not await PauseControl(store, clock).load()
    actions = [a.action for a in await store.recent_owner_actions()]
    assert actions == ["resume", "pause"]  # newest first, each recorded once


async def test_a_malformed_period_is_a_clear_value_error(store: Store) -> None:
    stats = StatsService(store, ScaledClock(T0), lambda: "UTC")
    with pytest.raises(ValueError, match="24h, 7d or 30d"):
        await stats.over("fortnight")
    result = await stats.over("7d")
    assert result.lines()[0].endswith(": 0 decisions")
    assert "DMs sent: 0; refused: 0" in result.lines()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


BASE = """version: 1
follow_back: {role: Mutuals}
rules:
  - {name: bots, when: {bot: true}, then: ignore}
  - {name: everyone, then: follow_back}
"""


async def test_a_valid_edit_dms_the_owner_what_changed(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "p.yaml", BASE)
    holder = PolicyHolder.load(path)
    owner = OwnerNotices(store, ScaledClock(T0), OWNER)
    announcer = PolicyAnnouncer(holder, owner)
    assert not (await announcer.reload()).changed  # nothing changed: nothing sent
    assert await store.actions_for(NO_GUILD, OWNER) == []
    _write(path, BASE.replace("then: follow_back", "then: review"))
    outcome = await announcer.reload()
    assert outcome.changed and outcome.error is None
    (row,) = await store.actions_for(NO_GUILD, OWNER)
    assert row.payload["text"] == outcome.text
    assert "everyone" in outcome.text and holder.current.version in outcome.text
    in_force = holder.current.version
    _write(path, BASE.replace("then: ignore", "then: nonsense"))
    broken = await announcer.reload()
    assert broken.error is not None and "p.yaml:4:" in broken.text
    assert holder.current.version == in_force  # the previous policy stays


def test_change_summary_names_each_change() -> None:
    before = load_policy_text(BASE, "p.yaml")
    after = load_policy_text(BASE.replace("name: bots", "name: robots"), "p.yaml")
    text = change_summary(before, after)
    assert "robots" in text and "'bots'" in text
    assert text.startswith(f"Your policy file changed; version {after.version}")


async def test_member_status_is_off_unless_the_policy_enables_it(
    store: Store, tmp_path: Path
) -> None:
    off = MemberStatus(store, PolicyHolder.load(_write(tmp_path / "a.yaml", BASE)))
    assert await off.words_for(1, 2, "Ada") is None
    on_text = BASE + "status_command: {enabled: true, nothing: 'Nothing yet, {name}.'}\n"
    on = MemberStatus(store, PolicyHolder.load(_write(tmp_path / "b.yaml", on_text)))
    assert await on.words_for(1, 2, "Ada") == "Nothing yet, Ada."


async def test_timers_wait_while_paused_and_act_after_resume(store: Store) -> None:
    from datetime import timedelta

    from bot.policy.decision import Action
    from bot.service.timers import FIRED, TimerResult, TimerScheduler
    from bot.store import TimerKind, TimerRow, TimerSpec
    from tests.store.helpers import GUILD, decision, join_event, record_decision, user

    clock = ScaledClock(T0)
    control = PauseControl(store, clock)
    timers = TimerScheduler(store, clock)
    timers.paused = control.paused
    handled: list[int] = []

    async def handler(timer: TimerRow) -> TimerResult:
        handled.append(timer.id)
        await store.finish_timer(timer.id, clock.now(), "done")
        return FIRED

    timers.register(TimerKind.LATER, handler)
    event = await join_event(store, GUILD, user(1), T0 - timedelta(hours=3))
    due = T0 - timedelta(hours=1)
    later = decision(Action.LATER, due=due)
    await record_decision(
        store, GUILD, 1, event, later, observed=False, at=T0, timer=TimerSpec("later", due)
    )
    await control.pause(OWNER)
    assert await timers.fire_due() == 1  # handed over, and put off
    assert handled == []
    (waiting,) = await store.scheduled_timers()
    assert waiting.due > clock.now()  # still scheduled, a little later
    await control.resume(OWNER)
    clock.advance(waiting.due - clock.now() + timedelta(seconds=1))  # now it is due again
    assert await timers.fire_due() == 1 and handled == [waiting.id]
