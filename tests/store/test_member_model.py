"""Join/leave/follow sequences checked against a tiny model of the counters."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store import Store
from tests.store.helpers import GUILD, T0, record_join, user

WINDOW = timedelta(hours=5)


@dataclass
class Model:
    known: bool = False
    present: bool = False
    followed_at: int | None = None
    joined: int = 0
    rejoined: int = 0
    churned: int = 0


async def play(steps: list[tuple[str, int]]) -> None:
    model = Model()
    store = await Store.open(":memory:")
    clock = 0
    try:
        for op, gap in steps:
            clock += gap + 1  # strictly increasing hours
            now = T0 + timedelta(hours=clock)
            if op == "join":
                await record_join(store, GUILD, user(1), now, False, now)
                model.rejoined += model.known  # seen before: left, or a leave was missed
                model.joined += 1
                model.known = model.present = True
                model.followed_at = None
            elif op == "leave":
                await store.record_leave(GUILD, 1, now, WINDOW)
                if model.present:
                    if model.followed_at is not None and clock - model.followed_at <= 5:
                        model.churned += 1
                    model.present = False
                    model.followed_at = None
            elif op == "follow" and model.present:
                await store.set_followed(GUILD, 1, True, now)
                if model.followed_at is None:
                    model.followed_at = clock
            member = await store.get_member(GUILD, 1)
            if not model.known:
                assert member is None
                continue
            assert member is not None
            assert member.present == model.present
            assert member.followed == (model.followed_at is not None)
            assert (member.times_joined, member.times_rejoined, member.churned) == (
                model.joined, model.rejoined, model.churned,
            )  # fmt: skip
    finally:
        await store.close()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["join", "leave", "follow"]), st.integers(0, 8)), max_size=25
    )
)
def test_counters_match_the_model(steps: list[tuple[str, int]]) -> None:
    asyncio.run(play(steps))
