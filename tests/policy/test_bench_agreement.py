"""The compiled engine agrees with a hand-written version, and its caches never leak."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from bot.policy import decide, load_policy


def _bench() -> ModuleType:
    # Loaded from its file: the repository root need not be on sys.path.
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "policy_bench.py"
    spec = importlib.util.spec_from_file_location("policy_bench_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()


def test_engine_agrees_with_hand_written_baseline() -> None:
    policy = load_policy(bench.POLICY)
    members = bench.make_members(3000, seed=7)
    decided = [decide(policy, m, bench.NOW) for m in members]
    expected = [bench.baseline(m, bench.NOW) for m in members]
    assert [(d.rule, d.action.value) for d in decided] == expected
    assert len({d.rule for d in decided}) >= 12  # the members really are varied


def test_warm_caches_give_the_same_explanations_as_a_fresh_policy() -> None:
    warm = load_policy(bench.POLICY)
    members = bench.make_members(1500, seed=11)
    for m in members:  # fill every cache
        decide(warm, m, bench.NOW)
    for m in members[::60]:
        fresh = load_policy(bench.POLICY)
        assert decide(warm, m, bench.NOW) == decide(fresh, m, bench.NOW)
