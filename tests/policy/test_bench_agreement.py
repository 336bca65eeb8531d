"""The compiled engine agrees with a hand-written version, and its caches never leak."""

from __future__ import annotations

from benchmarks.policy_bench import NOW, POLICY, baseline, make_members
from bot.policy import decide, load_policy


def test_engine_agrees_with_hand_written_baseline() -> None:
    policy = load_policy(POLICY)
    members = make_members(3000, seed=7)
    decided = [decide(policy, m, NOW) for m in members]
    assert [(d.rule, d.action.value) for d in decided] == [baseline(m, NOW) for m in members]
    assert len({d.rule for d in decided}) >= 12  # the members really are varied


def test_warm_caches_give_the_same_explanations_as_a_fresh_policy() -> None:
    warm = load_policy(POLICY)
    members = make_members(1500, seed=11)
    for m in members:  # fill every cache
        decide(warm, m, NOW)
    for m in members[::60]:
        fresh = load_policy(POLICY)
        assert decide(warm, m, NOW) == decide(fresh, m, NOW)
