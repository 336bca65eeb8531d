"""The digest service: when it fires (DST-safe, once per local day, through the real
dispatcher and APScheduler), what it gathers, how it is stored and sent."""

from __future__ import annotations

import asyncio
import json
import time as real_time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.policy.decision import Action
from bot.runlog import describe
from bot.service.clock import ScaledClock
from bot.service.digest import DigestReason, DigestService, store_mentions
from bot.service.digest_pages import Page, check_limits, parse_review_custom_id
from bot.service.digest_schedule import DigestSchedule, upcoming
from bot.service.events import DigestSent, EventBus
from bot.service.policy_holder import PolicyHolder
from bot.service.timers import TimerScheduler
from bot.store import ActionSpec, OutboxKind, OutboxRow, Store, TimerKind
from bot.store.kinds import MentionStatus
from bot.store.mention_rows import MentionInput, MentionVerdict
from tests.service.helpers import GUILD, OWNER, write_policy
from tests.store.helpers import decision, record_decision, record_join, user

FAST = 36_000.0  # a virtual hour every 0.1 s


def policy_text(zone: str, at: str, when_empty: str = "skip") -> str:
    return f"""\
version: 1
owner: {{timezone: {zone}, digest_at: "{at}", digest_when_empty: {when_empty}}}
follow_back: {{role: Mutuals}}
rules:
  - name: everyone
    then: follow_back
"""


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class ManualClock:
    """Virtual time that moves only when told (no scheduler in the loop)."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def real_time_for(self, moment: datetime) -> datetime:
        return moment


@dataclass
class Rig:
    store: Store
    policies: PolicyHolder
    digest: DigestService
    timers: TimerScheduler
    sent: list[DigestSent]


def make_rig(store: Store, policies: PolicyHolder, clock: ScaledClock | ManualClock) -> Rig:
    sent: list[DigestSent] = []
    bus = EventBus()
    bus.subscribe(lambda e: sent.append(e) if isinstance(e, DigestSent) else None)
    digest = DigestService(store, policies, clock, owner_id=OWNER, events=bus)
    timers = TimerScheduler(store, clock)
    digest.register_timers(timers)
    return Rig(store, policies, digest, timers, sent)


async def hold_for_review(store: Store, uid: int, at: datetime) -> int:
    await record_join(store, GUILD, user(uid, f"held{uid}"), at, False, at)
    return await record_decision(
        store, GUILD, uid, None, decision(Action.REVIEW, "new accounts"), observed=False, at=at
    )


async def fired_digest_timers(store: Store) -> list[datetime]:
    sql = "SELECT due FROM timers WHERE kind = 'digest' AND status = 'fired' ORDER BY due"
    rows = await store.database.run(lambda conn: conn.execute(sql).fetchall())
    return [datetime.fromisoformat(r[0]) for r in rows]


async def scheduled_digest_timers(store: Store) -> list[datetime]:
    sql = "SELECT due FROM timers WHERE kind = 'digest' AND status = 'scheduled'"
    rows = await store.database.run(lambda conn: conn.execute(sql).fetchall())
    return [datetime.fromisoformat(r[0]) for r in rows]


async def digest_outbox(store: Store) -> list[OutboxRow]:
    sql = "SELECT id FROM outbox WHERE kind = 'digest' ORDER BY id"
    ids = await store.database.run(lambda conn: conn.execute(sql).fetchall())
    rows = [await store.get_action(i) for (i,) in ids]
    return [r for r in rows if r is not None]


# --- DST, through the real dispatcher and APScheduler ----------------------------------
# Each case: three local days around a clock change, with the UTC instant the digest
# must go out each day (worked out by hand from the zone's offsets, not by the code).
DST_CASES = {
    "Berlin spring forward (02:30 skipped: sent at 03:00)": (
        "Europe/Berlin", "02:30",
        ["2026-03-28T01:30", "2026-03-29T01:00", "2026-03-30T00:30"],
    ),
    "Berlin fall back (02:30 twice: sent the first time)": (
        "Europe/Berlin", "02:30",
        ["2026-10-24T00:30", "2026-10-25T00:30", "2026-10-26T01:30"],
    ),
    "New York spring forward": (
        "America/New_York", "02:30",
        ["2026-03-07T07:30", "2026-03-08T07:00", "2026-03-09T06:30"],
    ),
    "New York fall back (01:30 twice)": (
        "America/New_York", "01:30",
        ["2026-10-31T05:30", "2026-11-01T05:30", "2026-11-02T06:30"],
    ),
    "Sydney autumn, clocks back in April (02:30 twice)": (
        "Australia/Sydney", "02:30",
        ["2026-04-03T15:30", "2026-04-04T15:30", "2026-04-05T16:30"],
    ),
    "Sydney spring, clocks forward in October (02:30 skipped)": (
        "Australia/Sydney", "02:30",
        ["2026-10-02T16:30", "2026-10-03T16:00", "2026-10-04T15:30"],
    ),
}  # fmt: skip


@pytest.fixture
async def running_timers() -> AsyncIterator[list[TimerScheduler]]:
    started: list[TimerScheduler] = []
    yield started
    for timers in started:
        timers.shutdown()


async def wait_for(check: object, timeout: float = 5.0) -> None:
    deadline = real_time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if real_time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("case", list(DST_CASES))
async def test_fires_once_per_local_day_at_the_right_time_across_a_clock_change(
    case: str, store: Store, tmp_path: Path, running_timers: list[TimerScheduler]
) -> None:
    zone, at, expected_text = DST_CASES[case]
    expected = [utc(t) for t in expected_text]
    policies = write_policy(tmp_path / "policy.yaml", policy_text(zone, at))
    start = expected[0] - timedelta(hours=20)
    clock = ScaledClock(start, speed=FAST)
    rig = make_rig(store, policies, clock)
    await hold_for_review(store, 7, start - timedelta(days=1))
    rig.timers.start()
    running_timers.append(rig.timers)
    # First start ever: nothing is sent; the first digest is the next slot.
    assert await rig.digest.start() is None
    assert await rig.timers.rebuild() == 1  # exactly one digest timer waits
    for slot in expected:
        # Skip the quiet hours: jump to shortly before the slot and re-arm (days in
        # seconds), then let real (scaled) time run through the slot and 2.5 hours past
        # it, so a repeated hour is lived through.
        clock.advance(max(slot - timedelta(minutes=30) - clock.now(), timedelta(0)))
        await rig.timers.rebuild()
        await wait_for(lambda s=slot: clock.now() > s + timedelta(hours=2, minutes=30))
    scheduled = [e for e in rig.sent if e.reason == DigestReason.SCHEDULED]
    zone_info = DigestSchedule.from_owner(policies.current.owner).zone
    assert [e.local_date for e in scheduled] == [s.astimezone(zone_info).date() for s in expected]
    for event, slot in zip(scheduled, expected, strict=True):
        # Scheduler latency on a busy machine, scaled up 36,000 times: 45 virtual minutes
        # is 75 real ms. The exact instants are the fired timers' due times, checked below.
        assert slot <= event.at < slot + timedelta(minutes=45), (event.at, slot)
    # The timers the dispatcher fired were due exactly at the expected instants.
    assert (await fired_digest_timers(store))[-3:] == expected
    assert len(await scheduled_digest_timers(store)) == 1  # the next one, only


async def test_the_times_armed_over_a_year_are_followback_digest_next_s(
    store: Store, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("Europe/Berlin", "02:30"))
    start = utc("2026-01-01T12:00")
    clock = ManualClock(start)
    rig = make_rig(store, policies, clock)
    await rig.digest.start()  # a first start: 1 January's counts as done
    schedule = DigestSchedule.from_owner(policies.current.owner)
    expected = upcoming(schedule, start, 365, last_sent=date(2026, 1, 1))
    armed: list[datetime] = []
    for _ in range(365):
        (due,) = await scheduled_digest_timers(store)
        armed.append(due)
        clock.moment = due
        assert await rig.timers.fire_due() == 1
    assert armed == [slot.at for slot in expected]
    scheduled = [e.local_date for e in rig.sent if e.reason == DigestReason.SCHEDULED]
    assert scheduled == [slot.local_date for slot in expected]
    assert len(set(scheduled)) == 365  # one per local day, none twice


# --- downtime --------------------------------------------------------------------------
async def test_a_digest_due_during_downtime_is_sent_once_at_start(
    store: Store, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("Europe/Berlin", "09:00"))
    clock = ManualClock(utc("2026-05-04T08:00"))  # 10:00 in Berlin: 4 May's is owed
    await hold_for_review(store, 7, clock.moment - timedelta(days=1))
    rig = make_rig(store, policies, clock)
    assert await rig.digest.start() is None  # first start: 4 May's counts as done
    assert (await store.digest_state()).last_sent == date(2026, 5, 4)
    # Down from then until 7 May 12:00 UTC: the 5th's, 6th's and 7th's slots passed.
    clock.moment = utc("2026-05-07T12:00")
    restarted = make_rig(store, policies, clock)
    missed = await restarted.digest.start()
    assert missed is not None
    assert (missed.local_date, missed.reason) == (date(2026, 5, 7), DigestReason.MISSED)
    # The stale timer from before the downtime is gone; the next one is 8 May's.
    assert await scheduled_digest_timers(store) == [utc("2026-05-08T07:00")]
    # Starting again (a crash loop) sends nothing more.
    assert await make_rig(store, policies, clock).digest.start() is None
    assert [e.reason for e in rig.sent + restarted.sent] == ["missed"]
    assert len(await digest_outbox(store)) == 1


async def test_a_timer_firing_when_nothing_is_owed_sends_nothing_and_re_arms(
    store: Store, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("UTC", "09:00"))
    clock = ManualClock(utc("2026-05-04T10:00"))
    rig = make_rig(store, policies, clock)
    await rig.digest.start()
    assert await rig.digest.send_if_due(DigestReason.SCHEDULED) is None
    assert await scheduled_digest_timers(store) == [utc("2026-05-05T09:00")]


# --- empty days ------------------------------------------------------------------------
async def test_an_empty_day_sends_nothing_when_the_policy_says_skip(
    store: Store, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("UTC", "09:00", "skip"))
    clock = ManualClock(utc("2026-05-04T10:00"))
    rig = make_rig(store, policies, clock)
    await rig.digest.start()
    clock.moment += timedelta(days=1)
    outcome = await rig.digest.send_if_due(DigestReason.SCHEDULED)
    assert outcome is not None and outcome.pages == 0 and not outcome.queued
    assert await digest_outbox(store) == []
    assert (await store.digest_state()).last_sent == date(2026, 5, 5)  # the day is done


async def test_an_empty_day_gets_one_line_when_the_policy_says_so(
    store: Store, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("UTC", "09:00", "one_line"))
    clock = ManualClock(utc("2026-05-04T10:00"))
    rig = make_rig(store, policies, clock)
    await rig.digest.start()
    clock.moment += timedelta(days=1)
    outcome = await rig.digest.send_if_due(DigestReason.SCHEDULED)
    assert outcome is not None and outcome.pages == 1 and outcome.queued
    (row,) = await digest_outbox(store)
    page, count = await store.digest_page(row.payload["snapshot"], 0)
    assert count == 1 and page is not None
    assert "nothing needs you today" in page["content"] and not page["embeds"]


# --- content and pages -----------------------------------------------------------------
async def test_five_hundred_pending_reviews_paginate_within_discord_s_limits(
    store: Store, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("UTC", "09:00"))
    base = utc("2026-05-01T00:00")
    ids = [await hold_for_review(store, 1000 + i, base + timedelta(minutes=i)) for i in range(500)]
    clock = ManualClock(utc("2026-05-04T10:00"))
    rig = make_rig(store, policies, clock)
    outcome = await rig.digest.send_now()
    snapshot = await store.digest_snapshot(outcome.snapshot_id)
    assert snapshot is not None and len(snapshot.pages) == outcome.pages >= 50
    shown: list[int] = []
    for page in snapshot.pages:
        as_page = Page(0, tuple(page["embeds"]), tuple(page["components"]), page.get("content"))
        assert check_limits(as_page) == []
        for row in page["components"]:
            for button in row["components"]:
                parsed = parse_review_custom_id(button["custom_id"])
                if parsed and parsed[1] == "approve":
                    shown.append(parsed[0])
    assert shown == ids  # every review, once, oldest first
    # The on-demand digest did not move the schedule.
    assert (await store.digest_state()).last_sent is None


async def test_gathers_each_section_and_marks_what_is_new(store: Store, tmp_path: Path) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("UTC", "09:00"))
    now = utc("2026-05-04T09:00")
    clock = ManualClock(now)
    await hold_for_review(store, 1, now - timedelta(days=3))
    await hold_for_review(store, 2, now - timedelta(hours=2))
    await record_join(store, GUILD, user(3, "quiet"), now - timedelta(days=60), False, now)
    await store.set_followed(GUILD, 3, True, now - timedelta(days=45))
    rig = make_rig(store, policies, clock)
    content = await rig.digest.gather(now, last_at=now - timedelta(days=1))
    assert [(r.member, r.new) for r in content.reviews] == [("held1", False), ("held2", True)]
    assert [(c.member, c.reason) for c in content.cleanups] == [("quiet", "silent")]
    assert content.cleanups[0].new is False  # silent for 30 days well before the last one
    assert {c.decision for c in content.counts} == {"review"}
    assert [t.decision for t in content.trend] == ["review"]
    assert sum(content.trend[0].per_day) == 2 and len(content.trend[0].per_day) == 7


async def test_the_digest_goes_to_the_channel_when_one_is_configured(
    store: Store, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("UTC", "09:00"))
    await hold_for_review(store, 1, utc("2026-05-03T00:00"))
    clock = ManualClock(utc("2026-05-04T10:00"))
    digest = DigestService(store, policies, clock, owner_id=OWNER, channel_id=555)
    await digest.send_now()
    (row,) = await digest_outbox(store)
    assert row.payload["channel_id"] == 555 and row.user_id == OWNER
    assert json.dumps(row.payload)  # plain JSON: the outbox can re-send it after a crash


async def test_the_timer_kind_has_one_handler(store: Store, tmp_path: Path) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("UTC", "09:00"))
    rig = make_rig(store, policies, ManualClock(utc("2026-05-04T10:00")))
    with pytest.raises(ValueError, match="already"):
        rig.timers.register(TimerKind.DIGEST, rig.digest.timer_due)


# --- mentions, from the mentions store -------------------------------------------------
async def notify_mention(
    store: Store, message_id: int, author: str, text: str | None, at: datetime, status: str
) -> None:
    item = MentionInput(GUILD, 2, message_id, 77, author, at, text, mentions_owner=True)
    verdict = MentionVerdict("to me", "notify", None, "matched", "v1", MentionStatus(status))
    assert await store.store_mention(item, verdict, at) is not None


async def test_unanswered_mentions_come_from_the_mentions_store_a_week_of_them(
    store: Store, tmp_path: Path
) -> None:
    now = utc("2026-05-04T09:00")
    await notify_mention(
        store, 3, "asker", "<@42> follow me back? <#7>", now - timedelta(days=3), "listed"
    )
    await notify_mention(store, 4, "late_one", None, now - timedelta(hours=2), "too_old")
    await notify_mention(store, 5, "ancient", "hello?", now - timedelta(days=9), "listed")
    policies = write_policy(tmp_path / "policy.yaml", policy_text("UTC", "09:00"))
    digest = DigestService(
        store, policies, ManualClock(now), owner_id=OWNER, mentions=store_mentions(store)
    )
    content = await digest.gather(now, last_at=now - timedelta(days=1))
    assert [(m.author, m.excerpt, m.state, m.new) for m in content.mentions] == [
        ("asker", "@someone follow me back? #channel", "notify", False),
        ("late_one", "", "too_old", True),
    ]
    assert content.mentions[0].link == f"https://discord.com/channels/{GUILD}/2/3"


def test_the_run_log_says_what_a_digest_held() -> None:
    at = utc("2026-05-04T09:00")
    sent = DigestSent(at, 3, date(2026, 5, 4), "missed", 2, "12 pending reviews")
    assert (
        describe(sent) == "digest for Mon 04 May (missed while down): 12 pending reviews; 2 page(s)"
    )
    skipped = DigestSent(at, 4, date(2026, 5, 5), "scheduled", 0, "nothing needs you")
    assert "skipped, as the policy says" in (describe(skipped) or "")


async def test_a_new_digest_time_in_the_policy_re_arms_the_timer_at_once(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    policies = write_policy(path, policy_text("Europe/Berlin", "09:00"))
    clock = ManualClock(utc("2026-05-04T10:00"))  # 12:00 in Berlin
    rig = make_rig(store, policies, clock)
    await rig.digest.start()
    assert await scheduled_digest_timers(store) == [utc("2026-05-05T07:00")]
    before = policies.current
    path.write_text(policy_text("Europe/Berlin", "18:30"), encoding="utf-8")
    assert policies.reload() is None
    await rig.digest.policy_changed(before)
    # The first start counted 4 May as done: the next is 5 May, now at 18:30 Berlin.
    assert await scheduled_digest_timers(store) == [utc("2026-05-05T16:30")]
    unchanged = policies.current
    await rig.digest.policy_changed(unchanged)  # same schedule: nothing moves
    assert await scheduled_digest_timers(store) == [utc("2026-05-05T16:30")]


async def test_refusals_the_owner_can_fix_are_said_in_their_words(
    store: Store, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "policy.yaml", policy_text("UTC", "09:00"))
    now = utc("2026-05-04T09:00")
    await record_join(store, GUILD, user(5, "roley"), now, False, now)
    role, dm = await store.enqueue_actions(
        GUILD,
        5,
        [
            ActionSpec(OutboxKind.ADD_ROLE, {"role_id": 9}),
            ActionSpec(OutboxKind.DM, {"text": "hi"}),
        ],
        now - timedelta(hours=1),
    )
    for outbox_id, code in ((role, 50013), (dm, 50007)):
        assert await store.claim_action(outbox_id, now - timedelta(hours=1))
        await store.fail_action(outbox_id, now - timedelta(hours=1), code, "Discord's words")
    digest = DigestService(store, policies, ManualClock(now), owner_id=OWNER)
    content = await digest.gather(now, last_at=now - timedelta(days=1))
    assert sorted((a.kind, a.detail, a.new) for a in content.actions) == [
        ("dm_refused", "their DMs are closed to the bot", True),
        (
            "role_refused",
            "missing permissions: give the bot Manage Roles, its role above the follow-back role",
            True,
        ),
    ]
