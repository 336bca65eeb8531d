"""How fast are the digest's pages built? Run: python -m benchmarks.digest_bench
[--reviews N] [--mentions M] [--runs R]

Builds the pages of a digest with 10,000 pending reviews and 1,000 unanswered mentions
(plus a few of every other kind), the median of R runs, and prints the time and the
page count against the goal (200 ms). Beside it, in the same run, the baseline: the same
items formatted as plain lines and joined, with no escaping, no limits and no buttons.

Two timings: the pure page building (bot.service.digest_pages) from content in memory,
and the whole digest from a real SQLite store (a file in a temporary folder): the store
seeded with the pending reviews (members and held decisions, as the pipeline stores
them) and a few late follow-backs, then DigestService.gather + build_pages, as the bot
does each day. The unanswered mentions come through the digest's mention source from
memory: the mentions store (issue 11) had not landed when this was written.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.policy import Action, Decision, load_policy_text
from bot.service.clock import Clock
from bot.service.digest import DigestService
from bot.service.digest_pages import (
    CleanupReason,
    CleanupSuggestion,
    DecisionCount,
    DecisionTrend,
    DigestContent,
    LateFollowBack,
    MentionState,
    ObserveEnding,
    OwnerAction,
    OwnerActionKind,
    PendingReview,
    UnansweredMention,
    build_pages,
    check_limits,
)
from bot.service.policy_holder import PolicyHolder
from bot.store import DecisionInput, JoinInput, Store, UserInfo

GOAL_SECONDS = 0.200
NOW = datetime(2025, 6, 1, 7, 0, tzinfo=UTC)
_NAMES = ["ada", "grace.h", "linus", "margaret_h", "alan", "ken", "barbara", "xx_gamer", "Zoë"]
_RULES = ["brand-new accounts", "raid: hold everyone", "no avatar, new", "suspicious name"]
_TEXTS = [
    "follow me back?",
    "hey @owner, loved the stream yesterday, any chance of a collab?",
    "",
    "check out my *new* server https://discord.gg/xyz",
    "🔥🔥🔥 when's the next video",
]


def make_content(reviews: int, mentions: int, seed: int = 7) -> DigestContent:
    """A digest as the store would hand it over, always the same for the same seed."""
    rng = random.Random(seed)

    def name(i: int) -> str:
        return f"{rng.choice(_NAMES)}{i}"

    return DigestContent(
        date(2025, 6, 1),
        reviews=[
            PendingReview(
                decision_id=10**6 + i,
                member=name(i),
                rule=rng.choice(_RULES),
                decided_at=NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
                new=rng.random() < 0.1,
            )
            for i in range(reviews)
        ],
        mentions=[
            UnansweredMention(
                author=name(i),
                said_at=NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 7)),
                excerpt=rng.choice(_TEXTS),
                state=MentionState.TOO_OLD if rng.random() < 0.2 else MentionState.NOTIFY,
                link=f"https://discord.com/channels/1/2/{10**17 + i}",
                new=rng.random() < 0.3,
            )
            for i in range(mentions)
        ],
        actions=[
            OwnerAction(OwnerActionKind.DM_REFUSED, name(i), "DMs closed (50007)", NOW)
            for i in range(20)
        ],
        late=[
            LateFollowBack(name(i), NOW + timedelta(minutes=i), "everyone else") for i in range(50)
        ],
        observing=[ObserveEnding(name(i), NOW + timedelta(hours=1), "new") for i in range(50)],
        cleanups=[
            CleanupSuggestion(name(i), CleanupReason.SILENT, NOW - timedelta(days=90))
            for i in range(30)
        ],
        counts=[DecisionCount("follow_back", r, 5) for r in _RULES],
        trend=[DecisionTrend("follow_back", (4, 2, 7, 1, 0, 3, 9))],
    )


POLICY = """\
version: 1
owner: {timezone: Europe/Berlin, digest_at: "09:00"}
follow_back: {role: Mutuals}
rules:
  - name: everyone
    then: review
"""


class _FixedClock:
    def now(self) -> datetime:
        return NOW

    def real_time_for(self, moment: datetime) -> datetime:
        return moment


async def _seed(store: Store, reviews: int) -> None:
    """`reviews` members held for review, as record_joins / record_decisions store them."""
    rng = random.Random(11)
    batch = 1000
    for start in range(0, reviews, batch):
        joins = [
            JoinInput(
                1,
                UserInfo(user_id=10**6 + i, username=f"{rng.choice(_NAMES)}{i}"),
                NOW - timedelta(days=30) + timedelta(minutes=i),
            )
            for i in range(start, min(start + batch, reviews))
        ]
        stored = await store.record_joins(joins, NOW - timedelta(days=1))
        decisions = [
            DecisionInput(
                1, row.user_id, event_id, Decision(rule=rng.choice(_RULES), action=Action.REVIEW)
            )
            for event_id, row, _ in stored
        ]
        await store.record_decisions(decisions, NOW - timedelta(hours=rng.randint(1, 500)))


def store_timing(reviews: int, mentions: int, runs: int) -> tuple[float, float, int, int]:
    """Median seconds of gather + build_pages and of gather alone, pages, reviews read."""
    memory = make_content(0, mentions).mentions

    async def from_memory(since: datetime, until: datetime) -> Sequence[UnansweredMention]:
        return memory

    async def run() -> tuple[float, float, int, int]:
        with tempfile.TemporaryDirectory() as folder:
            store = await Store.open(Path(folder) / "bench.sqlite3")
            try:
                await _seed(store, reviews)
                path = Path(folder) / "policy.yaml"
                policies = PolicyHolder(path, load_policy_text(POLICY, str(path)))
                clock: Clock = _FixedClock()
                digest = DigestService(store, policies, clock, owner_id=1, mentions=from_memory)
                times, gathers, pages, read = [], [], 0, 0
                for _ in range(runs):
                    start = time.perf_counter()
                    content = await digest.gather(NOW, NOW - timedelta(days=1))
                    gathered = time.perf_counter()
                    pages = len(build_pages(content, snapshot_id=1))
                    times.append(time.perf_counter() - start)
                    gathers.append(gathered - start)
                    read = len(content.reviews)
                return statistics.median(times), statistics.median(gathers), pages, read
            finally:
                await store.close()

    return asyncio.run(run())


def naive_join(content: DigestContent) -> str:
    """The baseline: one plain line per item, joined; no escaping, limits or buttons."""
    lines = [
        f"{r.member} · rule {r.rule} · held {r.decided_at:%Y-%m-%d %H:%M}" for r in content.reviews
    ]
    lines += [f"{m.author} {m.said_at:%Y-%m-%d %H:%M}: {m.excerpt}" for m in content.mentions]
    lines += [f"{a.kind} {a.member}: {a.detail}" for a in content.actions]
    lines += [f"{x.member} · follow back {x.due_at:%H:%M}" for x in content.late]
    lines += [f"{x.member} · observed until {x.ends_at:%H:%M}" for x in content.observing]
    lines += [f"{c.member} · {c.reason}" for c in content.cleanups]
    return "\n".join(lines)


def median_seconds(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--mentions", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)

    content = make_content(args.reviews, args.mentions)
    pages = build_pages(content, snapshot_id=1)
    over = [p.index for p in pages if check_limits(p)]
    if over:
        print(f"pages over Discord's limits: {over[:10]}", file=sys.stderr)
        return 1
    items = sum(len(x) for x in (content.reviews, content.mentions, content.actions))
    items += sum(len(x) for x in (content.late, content.observing, content.cleanups))

    built = median_seconds(lambda: build_pages(content, snapshot_id=1), args.runs)
    joined = median_seconds(lambda: naive_join(content), args.runs)
    from_store, gather, store_pages, read = store_timing(args.reviews, args.mentions, args.runs)
    verdict = "met" if built <= GOAL_SECONDS else "MISSED"
    store_verdict = "met" if from_store <= GOAL_SECONDS else "MISSED"
    print(
        f"digest pages: {args.reviews:,} pending reviews, {args.mentions:,} unanswered "
        f"mentions, {items:,} items in all; median of {args.runs} runs"
    )
    print(
        f"  build_pages      {built * 1000:8.1f} ms  {len(pages):,} pages, all within "
        f"Discord's limits  (goal <= {GOAL_SECONDS * 1000:.0f} ms: {verdict})"
    )
    print(
        f"  from the store   {from_store * 1000:8.1f} ms  {store_pages:,} pages: gather "
        f"{gather * 1000:.1f} ms ({read:,} reviews read from SQLite, mentions from memory) "
        f"+ build_pages  (goal <= {GOAL_SECONDS * 1000:.0f} ms: {store_verdict})"
    )
    print(
        f"  naive line join  {joined * 1000:8.1f} ms  one string, no limits (baseline); "
        f"pages cost {built / joined:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
