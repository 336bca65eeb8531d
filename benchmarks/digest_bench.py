"""How fast are the digest's pages built? Run: python -m benchmarks.digest_bench
[--reviews N] [--mentions M] [--runs R]

Builds the pages of a digest with 10,000 pending reviews and 1,000 unanswered mentions
(plus a few of every other kind), the median of R runs, and prints the time and the
page count against the goal (200 ms). Beside it, in the same run, the baseline: the same
items formatted as plain lines and joined, with no escaping, no limits and no buttons.

What is timed is the pure page building (bot.service.digest_pages) from content in
memory. Reading that content from the store is not timed yet: the store's digest reads
come with the digest's wiring.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

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
    verdict = "met" if built <= GOAL_SECONDS else "MISSED"
    print(
        f"digest pages: {args.reviews:,} pending reviews, {args.mentions:,} unanswered "
        f"mentions, {items:,} items in all; median of {args.runs} runs"
    )
    print("  timed: the pure page building from content in memory (store reads: not yet)")
    print(
        f"  build_pages      {built * 1000:8.1f} ms  {len(pages):,} pages, all within "
        f"Discord's limits  (goal <= {GOAL_SECONDS * 1000:.0f} ms: {verdict})"
    )
    print(
        f"  naive line join  {joined * 1000:8.1f} ms  one string, no limits (baseline); "
        f"pages cost {built / joined:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
