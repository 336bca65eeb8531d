"""How fast is decide()? Run: python -m benchmarks.policy_bench [--members N] [--runs R]

Decides 100,000 varied (deterministic) members with policies/busy-creator.yaml,
explanations included, and compares with a hand-written plain-`if` function
checking the same conditions (no explanations). Prints medians and the ratio.
"""

from __future__ import annotations

import argparse
import fnmatch
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.policy import MemberFacts, Policy, decide, load_policy

POLICY = Path(__file__).resolve().parent.parent / "policies" / "busy-creator.yaml"
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

_NAMES = ["ada", "grace.h", "linus", "margaret", "alan", "ken", "barbara", "user", "xx_gamer"]
_SPAM = ["Free Nitro Giveaway", "nitro gift here", "Crypto Signals", "discord staff team"]
_NICKS = [None, None, None, "Server Admin", "sunny", "Official Bot", "the mod"]


def make_members(n: int, seed: int = 42) -> list[MemberFacts]:
    """n varied members, always the same for the same seed."""
    rng = random.Random(seed)
    calm = tuple(NOW - timedelta(minutes=rng.randint(0, 600)) for _ in range(3))
    raid = tuple(NOW - timedelta(seconds=rng.randint(0, 500)) for _ in range(30))
    members = []
    for i in range(n):
        spammy = rng.random() < 0.05
        base = rng.choice(_SPAM) if spammy else rng.choice(_NAMES)
        username = f"{base}{rng.randint(0, 10**8)}" if rng.random() < 0.3 else base
        observed = rng.random() < 0.3
        members.append(
            MemberFacts(
                id=10**17 + i,
                username=username.lower().replace(" ", "_"),
                global_name=base.title() if rng.random() < 0.5 else None,
                nick=rng.choice(_NICKS),
                bot=rng.random() < 0.03,
                spammer=rng.random() < 0.02,
                created_at=NOW - timedelta(days=rng.randint(0, 3000), hours=rng.randint(0, 23)),
                joined_at=NOW - timedelta(days=rng.randint(0, 30) if observed else 0),
                default_avatar=rng.random() < 0.2,
                roles=frozenset(
                    rng.sample(["Patreon", "Artists", "Gamers", "Members"], rng.randint(0, 1))
                ),
                messages=rng.randint(0, 60) if observed else 0,
                links=rng.randint(0, 12) if observed else 0,
                invites=rng.choice([0, 0, 0, 0, 1, 3]),
                attachments=rng.randint(0, 25) if observed else 0,
                everyone_pings=1 if rng.random() < 0.02 else 0,
                owner_mentions=rng.randint(0, 6) if observed else 0,
                followed=rng.random() < 0.05,
                observed=observed,
                times_rejoined=rng.choice([0, 0, 0, 0, 0, 1, 4]),
                churned=rng.choice([0, 0, 0, 0, 0, 0, 1, 2]),
                declined_before=rng.random() < 0.05,
                recent_joins=raid if rng.random() < 0.02 else calm,
            )
        )
    return members


# --- the hand-written baseline: busy-creator.yaml as plain `if`s ---------------
_COLLAB = {"189234567890123456", "ada_l", "grace.h", "424242424242424242"}
_BLOCKED = {"666666666666666666", "known_scammer"}
_LIKE = [
    re.compile(fnmatch.translate(p), re.I)
    for p in (
        "*free*nitro*",
        "*nitro*gift*",
        "*giveaway*",
        "*crypto*signal*",
        "*onlyfans*",
        "discord*staff*",
    )
]
_SUPPORTER = {"Patreon", "Server Booster", "Members"}
_STAFF = re.compile(r"(?i)\b(mod|admin|staff)\b")
_OFFICIAL = re.compile(r"(?i)^official")
_BARE = re.compile(r"^[a-z]+\d{6,}$")


def baseline(m: MemberFacts, now: datetime) -> tuple[str, str]:
    names = [x for x in (m.nick, m.global_name, m.username) if x]
    trusted = (
        str(m.id) in _COLLAB or m.username.lower() in _COLLAB or not _SUPPORTER.isdisjoint(m.roles)
    )
    age = now - m.created_at if m.created_at else None
    if m.bot:
        return "bots", "ignore"
    if m.spammer:
        return "flagged by Discord", "ignore"
    if str(m.id) in _BLOCKED or m.username.lower() in _BLOCKED:
        return "blocked", "ignore"
    if any(p.match(x) for x in names for p in _LIKE) and not trusted:
        return "spam names", "ignore"
    if m.everyone_pings >= 1 or (m.invites >= 2 and m.messages < 5):
        return "spam behaviour", "ignore"
    if m.followed:
        return "already following", "ignore"
    if sum(1 for t in m.recent_joins if now - timedelta(minutes=10) <= t <= now) >= 15:
        return "raid hold", "review"
    if trusted:
        return "collaborators and supporters", "follow_back"
    if m.churned >= 2:
        return "follow-for-follow churn", "decline"
    if m.declined_before:
        return "declined before", "decline"
    if m.times_rejoined >= 3:
        return "keeps rejoining", "review"
    if m.observed and m.messages >= 10 and m.attachments <= 20 and m.links < 10:
        return "engaged after a look", "later"
    in_server = now - m.joined_at if m.joined_at else None
    if (
        m.observed
        and m.owner_mentions >= 3
        and in_server is not None
        and in_server >= timedelta(days=7)
    ):
        return "mentions me a lot after a look", "review"
    if m.observed:
        return "quiet after a look", "decline"
    if age is not None and (
        age < timedelta(days=7) or (m.default_avatar and age < timedelta(days=30))
    ):
        return "fresh accounts", "observe"
    if (m.nick and _STAFF.search(m.nick)) or (m.global_name and _OFFICIAL.search(m.global_name)):
        return "impersonating staff", "review"
    if _BARE.search(m.username):
        return "bare usernames", "observe"
    return "everyone else", "observe"


def _rate(fn: Callable[[MemberFacts, datetime], object], members: list[MemberFacts]) -> float:
    start = time.perf_counter()
    for m in members:
        fn(m, NOW)
    return len(members) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    policy: Policy = load_policy(POLICY)
    members = make_members(args.members)
    # Same answers first: a fast wrong baseline would prove nothing.
    for m in members:
        d = decide(policy, m, NOW)
        if (d.rule, d.action.value) != baseline(m, NOW):
            print(f"mismatch for {m}: engine {d.rule}/{d.action}, baseline {baseline(m, NOW)}")
            return 1

    def engine(m: MemberFacts, now: datetime) -> object:
        return decide(policy, m, now)

    engine_rates, base_rates = [], []
    for _ in range(args.runs):  # interleaved, so drift hits both alike
        engine_rates.append(_rate(engine, members))
        base_rates.append(_rate(baseline, members))
    e, b = statistics.median(engine_rates), statistics.median(base_rates)
    misses = sum(len(decide(policy, m, NOW).misses) for m in members) / len(members)
    print(
        f"policy: {POLICY.name} ({len(policy.rules)} rules),"
        f" {len(members):,} members, {args.runs} runs"
    )
    print(f"average misses explained per decision: {misses:.1f}")
    print(f"engine (with explanations): median {e:,.0f} decisions/s")
    print(f"hand-written plain ifs:     median {b:,.0f} decisions/s")
    print(f"ratio engine/baseline: {e / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
