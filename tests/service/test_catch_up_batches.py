"""The start-up catch-up at scale (issue 14): the member list is compared with the store in
batches, in SQL; a UserInfo is made only for a member a decision needs; missed leaves are
recorded together, each told as a live leave is."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.service import followers as followers_module
from bot.service.events import CatchUpDone, MemberLeft, TimerFired, TimerOutcome
from bot.service.followers import FollowerService, MemberSnapshot, PresentRow
from bot.store import Store, UserInfo
from tests.service.helpers import GUILD, OWNER, T0, HookLog, user

HOUR = timedelta(hours=1)


class Sources:
    """The snapshot's user_info, counting whom it was asked for."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def user_info(self, source: UserInfo) -> UserInfo:
        self.asked.append(source.user_id)
        return source


def row(
    uid: int, name: str, joined: timedelta = timedelta(0), **flags: object
) -> PresentRow[UserInfo]:
    return (
        uid,
        T0 - 2 * HOUR + joined,
        bool(flags.get("pending", False)),
        flags.get("role"),  # type: ignore[return-value]
        bool(flags.get("follower", True)),
        user(uid, name),
    )


async def test_only_members_needing_a_decision_are_made_into_users_across_batches(
    store: Store, service: FollowerService, hooks_log: HookLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(followers_module, "RECONCILE_BATCH", 7)  # many batches
    for uid in range(100, 130):
        await service.member_joined(GUILD, user(uid, f"fb_{uid}"), T0 - 2 * HOUR)
    await service.flush()
    sources = Sources()
    rows = [row(uid, f"fb_{uid}") for uid in range(100, 125)]  # 125..129 left
    rows += [row(200 + k, f"fb_new{k}") for k in range(3)]  # three joined meanwhile
    rows.append(row(OWNER, "owner"))  # in the guild, never a follower
    rows.append(row(300, "opted_out", follower=False))  # here, not a follower: nothing
    snapshot = MemberSnapshot(rows, sources.user_info)
    assert await service.catch_up(GUILD, snapshot) == 3
    assert sources.asked == [200, 201, 202]  # not one per member of the guild
    (done,) = hooks_log.of(CatchUpDone)
    assert (done.joins, done.leaves, done.members) == (3, 5, len(rows))
    assert done.elapsed_ms is not None and done.elapsed_ms >= 0
    assert sorted(e.user_id for e in hooks_log.of(MemberLeft)) == list(range(125, 130))
    for uid in range(125, 130):
        gone = await store.get_member(GUILD, uid)
        assert gone is not None and not gone.present
        leave = [e for e in await store.unprocessed_events() if e.user_id == uid]
        assert leave == []  # the leave event was stored and processed
    assert await store.get_member(GUILD, OWNER) is None
    assert await store.get_member(GUILD, 300) is None
    here = await store.get_member(GUILD, 100)
    assert here is not None and here.present


async def test_missed_leaves_recorded_together_cancel_and_tell_their_timers(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    await service.member_joined(GUILD, user(10, "later_lee"), T0 - 2 * HOUR)
    await service.member_joined(GUILD, user(11, "later_lou"), T0 - 2 * HOUR)
    await service.flush()
    # later_lou left and came back while the bot was down: a new stay, the old one ended.
    rejoined = row(11, "later_lou", joined=HOUR)
    sources = Sources()
    assert await service.catch_up(GUILD, MemberSnapshot([rejoined], sources.user_info)) == 1
    assert sources.asked == [11]
    lee_timers = await store.timers_for(GUILD, 10)
    assert [(t.status, t.outcome) for t in lee_timers] == [("cancelled", TimerOutcome.LEFT.value)]
    left = {e.user_id: e for e in hooks_log.of(MemberLeft)}
    assert set(left) == {10, 11}
    told = [(e.user_id, e.kind, e.outcome) for e in hooks_log.of(TimerFired)]
    assert (10, "later", TimerOutcome.LEFT) in told and (11, "later", TimerOutcome.LEFT) in told
    lou = await store.get_member(GUILD, 11)
    assert lou is not None and lou.present and lou.stay == 2


async def test_a_second_catch_up_with_nothing_changed_finds_nothing(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    for uid in range(10, 20):
        await service.member_joined(GUILD, user(uid, f"fb_{uid}"), T0 - 2 * HOUR)
    await service.flush()
    sources = Sources()
    rows = [row(uid, f"fb_{uid}") for uid in range(10, 20)]
    assert await service.catch_up(GUILD, MemberSnapshot(rows, sources.user_info)) == 0
    assert await service.catch_up(GUILD, MemberSnapshot(rows, sources.user_info)) == 0
    assert sources.asked == []
    assert [
        (d.joins, d.leaves, d.screened, d.roles_by_hand) for d in hooks_log.of(CatchUpDone)
    ] == [
        (0, 0, 0, 0),
        (0, 0, 0, 0),
    ]
