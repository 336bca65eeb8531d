"""Messages to the owner: their own outbox kind, queued once, none without an owner."""

from __future__ import annotations

from pathlib import Path

from bot.policy import PolicyError, load_policy
from bot.policy.problems import Problem
from bot.service.clock import ScaledClock
from bot.service.owner import NO_GUILD, OwnerNotices, policy_broken_text
from bot.store import OutboxKind, Store
from tests.service.helpers import OWNER, T0


def broken_policy(tmp_path: Path) -> PolicyError:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nrules: [{name: x, then: {observe: soon}}]\n")
    try:
        load_policy(path)
    except PolicyError as exc:
        return exc
    raise AssertionError("the policy loaded")


async def test_a_broken_policy_is_queued_as_one_dm_to_the_owner(
    store: Store, tmp_path: Path
) -> None:
    woken: list[bool] = []
    notices = OwnerNotices(store, ScaledClock(T0), OWNER, wake_outbox=lambda: woken.append(True))
    error = broken_policy(tmp_path)
    await notices.policy_broken(error)
    (row,) = await store.actions_for(NO_GUILD, OWNER)
    assert row.kind == OutboxKind.OWNER_DM and row.status == "pending"
    assert row.payload == {"text": policy_broken_text(error)}  # no flag for the outbox to read
    assert "previous policy stays in force" in row.payload["text"]
    assert "broken.yaml" in row.payload["text"]
    assert woken == [True]


async def test_without_an_owner_nothing_is_queued(store: Store, tmp_path: Path) -> None:
    notices = OwnerNotices(store, ScaledClock(T0), None)
    assert not await notices.tell("hello")
    await notices.policy_broken(broken_policy(tmp_path))
    assert await store.actions_for(NO_GUILD, OWNER) == []


def test_a_long_report_is_cut_to_fit_one_dm() -> None:
    text = policy_broken_text(PolicyError([Problem("p.yaml", 1, 1, "", "x" * 5000)]))
    assert len(text) < 2000 and text.endswith("...\n```")
