"""The digest's pages: every item on some page, every page within Discord's limits."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.policy.model import EmptyDigest
from bot.service.digest_pages import (
    CUSTOM_ID_LIMIT,
    NEW_MARK,
    REVIEWS_PER_PAGE,
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
    Page,
    PendingReview,
    UnansweredMention,
    Verdict,
    build_pages,
    check_limits,
    page_custom_id,
    parse_page_custom_id,
    parse_review_custom_id,
    review_custom_id,
    text_len,
)
from bot.standin.limits import check_message

NOW = datetime(2025, 6, 1, 7, 0, tzinfo=UTC)
DAY = date(2025, 6, 1)
SNAPSHOT = 77


def _reviews(n: int, new_every: int = 7) -> list[PendingReview]:
    # Listed newest first on purpose: the digest must show them oldest first.
    return [
        PendingReview(
            decision_id=1000 + i,
            member=f"rev{i:04d}",
            rule="brand-new accounts",
            decided_at=NOW - timedelta(minutes=i),
            new=i % new_every == 0,
        )
        for i in range(n)
    ]


def _mentions(n: int) -> list[UnansweredMention]:
    return [
        UnansweredMention(
            author=f"men{i:04d}",
            said_at=NOW - timedelta(minutes=3 * i),
            excerpt="hey, would you follow me back? " * 4,
            state=MentionState.TOO_OLD if i % 5 == 0 else MentionState.NOTIFY,
            link=f"https://discord.com/channels/1/2/{9000 + i}",
            new=i % 2 == 0,
        )
        for i in range(n)
    ]


def _full(reviews: int = 500, mentions: int = 1000) -> DigestContent:
    return DigestContent(
        DAY,
        reviews=_reviews(reviews),
        mentions=_mentions(mentions),
        actions=[
            OwnerAction(OwnerActionKind.DM_REFUSED, "act0001", "DMs closed (50007)", NOW),
            OwnerAction(OwnerActionKind.ROLE_REFUSED, "act0002", "Missing Permissions", NOW),
            OwnerAction(OwnerActionKind.UNCERTAIN, "act0003", "role add", NOW, new=True),
        ],
        late=[
            LateFollowBack(f"lat{i:04d}", NOW + timedelta(hours=i), "everyone else")
            for i in range(30)
        ],
        observing=[
            ObserveEnding(f"obs{i:04d}", NOW + timedelta(hours=i), "brand-new") for i in range(20)
        ],
        cleanups=[
            CleanupSuggestion("cln0001", CleanupReason.SILENT, NOW - timedelta(days=60)),
            CleanupSuggestion(
                "cln0002", CleanupReason.LEFT_SOON, NOW - timedelta(days=1), new=True
            ),
        ],
        counts=[
            DecisionCount("follow_back", "people I know", 4),
            DecisionCount("follow_back", "everyone else", 11),
            DecisionCount("ignore", "bots", 2),
        ],
        trend=[DecisionTrend("follow_back", (3, 0, 5, 2, 9, 4, 1))],
    )


def _text(page: Page) -> str:
    return "\n".join(str(e.get("title")) + "\n" + str(e.get("description")) for e in page.embeds)


def _buttons(page: Page) -> list[dict[str, object]]:
    return [b for row in page.components for b in row["components"]]


def _lines(pages: list[Page]) -> list[str]:
    return [line for p in pages for e in p.embeds for line in str(e["description"]).split("\n")]


def _item_lines(pages: list[Page]) -> list[str]:
    """Lines of the item sections (not the summary, counts or trend)."""
    overview = ("Digest · ", "Since the last digest", "Last 7 days")
    return [
        line
        for p in pages
        for e in p.embeds
        if not str(e["title"]).startswith(overview)
        for line in str(e["description"]).split("\n")
    ]


def test_500_reviews_and_1000_mentions_all_present_and_every_page_within_limits() -> None:
    content = _full()
    pages = build_pages(content, SNAPSHOT)
    assert len(pages) >= 500 // REVIEWS_PER_PAGE

    for page in pages:
        assert check_limits(page) == [], page.index
        check_message(page.message())  # the stand-in refuses what Discord would refuse

    lines = _lines(pages)
    tokens = Counter(t for line in lines for t in re.findall(r"\b[a-z]{3}\d{4}\b", line))
    expected = (
        [r.member for r in content.reviews]
        + [m.author for m in content.mentions]
        + [a.member for a in content.actions]
        + [x.member for x in content.late]
        + [x.member for x in content.observing]
        + [c.member for c in content.cleanups]
    )
    assert tokens == Counter(expected)  # each item exactly once, nothing else
    assert sum(len(p.review_ids) for p in pages) == 500


def test_reviews_oldest_first_numbered_with_their_two_buttons_on_their_page() -> None:
    content = _full(reviews=500, mentions=0)
    pages = build_pages(content, SNAPSHOT)
    oldest_first = sorted(content.reviews, key=lambda r: r.decided_at)
    by_member = {r.member: r for r in content.reviews}
    seen: list[PendingReview] = []
    for page in pages:
        numbered = re.findall(r"\*\*(\d+)\.\*\* (?:\S+ )?(rev\d{4})", _text(page))
        on_page = [by_member[m] for _, m in numbered]
        assert len(on_page) <= REVIEWS_PER_PAGE
        assert list(page.review_ids) == [r.decision_id for r in on_page]
        buttons = {str(b["custom_id"]): str(b["label"]) for b in _buttons(page)}
        for number, member in numbered:
            decision = by_member[member].decision_id
            assert buttons[review_custom_id(decision, Verdict.APPROVE)] == f"Approve {number}"
            assert buttons[review_custom_id(decision, Verdict.DECLINE)] == f"Decline {number}"
        review_buttons = [c for c in buttons if parse_review_custom_id(c)]
        assert len(review_buttons) == 2 * len(on_page)  # no button for a review elsewhere
        seen.extend(on_page)
    assert seen == oldest_first
    assert [
        int(n)
        for p in pages
        for n, _ in re.findall(r"\*\*(\d+)\.\*\* (?:\S+ )?(rev\d{4})", _text(p))
    ] == list(range(1, 501))


def test_each_reviews_buttons_stand_in_one_column() -> None:
    pages = build_pages(DigestContent(DAY, reviews=_reviews(10)), SNAPSHOT)
    assert len(pages) == 1
    rows = [[str(b["label"]) for b in row["components"]] for row in pages[0].components]
    assert rows == [
        [f"Approve {n}" for n in range(1, 6)],
        [f"Decline {n}" for n in range(1, 6)],
        [f"Approve {n}" for n in range(6, 11)],
        [f"Decline {n}" for n in range(6, 11)],
    ]  # one page: no navigation row


def test_new_items_are_marked_and_old_ones_not() -> None:
    content = _full(reviews=40, mentions=40)
    lines = _lines(build_pages(content, SNAPSHOT))
    items = {r.member: r.new for r in content.reviews} | {m.author: m.new for m in content.mentions}
    items |= {c.member: c.new for c in content.cleanups} | {
        a.member: a.new for a in content.actions
    }
    for name, new in items.items():
        (line,) = [line for line in lines if name in line]
        assert (NEW_MARK in line) == new, line
    assert any(NEW_MARK in str(p.embeds[-1]["footer"]) for p in build_pages(content, SNAPSHOT))


def test_navigation_reaches_every_page_and_names_the_snapshot() -> None:
    pages = build_pages(_full(reviews=95, mentions=0), SNAPSHOT)
    count = len(pages)
    assert count >= 10
    targets_of = []
    for page in pages:
        nav = page.components[-1]["components"]
        parsed = [parse_page_custom_id(str(b["custom_id"])) for b in nav]
        assert all(p is not None and p[0] == SNAPSHOT for p in parsed)
        targets = [p[1] for p in parsed if p is not None]
        assert targets == sorted(set(targets))  # distinct, in order
        current = [b for b in nav if b.get("disabled")]
        assert [b["label"] for b in current] == [f"{page.index + 1} / {count}"]
        targets_of.append(targets)
    assert targets_of[0] == [0, 1, count - 1]
    assert targets_of[1] == [0, 1, 2, count - 1]
    assert targets_of[5] == [0, 4, 5, 6, count - 1]
    assert targets_of[-1] == [0, count - 2, count - 1]
    # Following "next" from the first page visits every page once.
    visited, at = [0], 0
    while at < count - 1:
        at = targets_of[at][targets_of[at].index(at) + 1]
        visited.append(at)
    assert visited == list(range(count))


def test_custom_ids_round_trip_and_stay_short() -> None:
    huge = 2**63 - 1
    assert parse_page_custom_id(page_custom_id(huge, 123456)) == (huge, 123456)
    assert parse_review_custom_id(review_custom_id(huge, Verdict.DECLINE)) == (
        huge,
        Verdict.DECLINE,
    )
    assert len(page_custom_id(huge, huge)) <= CUSTOM_ID_LIMIT
    assert len(review_custom_id(huge, Verdict.APPROVE)) <= CUSTOM_ID_LIMIT
    for bad in [
        "digest:1:2:3",
        "digest:x:1",
        "review:1:maybe",
        "review:1:approve ",
        "",
        "digest:1",
    ]:
        assert parse_page_custom_id(bad) is None and parse_review_custom_id(bad) is None
    with pytest.raises(ValueError):
        page_custom_id(-1, 0)


def test_an_empty_day_gets_nothing_or_one_line_as_the_policy_says() -> None:
    empty = DigestContent(DAY, counts=[DecisionCount("ignore", "bots", 3)])
    assert build_pages(empty, SNAPSHOT, EmptyDigest.SKIP) == []
    (page,) = build_pages(empty, SNAPSHOT, EmptyDigest.ONE_LINE)
    assert page.embeds == () and page.components == ()
    assert (
        page.content
        == "Digest for Sun 01 Jun: nothing needs you today (3 decisions since the last digest)."
    )
    assert "\n" not in page.content and check_limits(page) == []


def test_a_small_digest_is_one_page_without_navigation() -> None:
    content = DigestContent(DAY, mentions=_mentions(3), counts=[DecisionCount("ignore", "bots", 1)])
    (page,) = build_pages(content, SNAPSHOT)
    assert page.components == ()
    titles = [e["title"] for e in page.embeds]
    assert titles == [
        "Digest · Sunday 1 June 2025",
        "Since the last digest",
        "Unanswered mentions (3)",
    ]
    assert (
        page.embeds[-1]["footer"]["text"] == f"Page 1 of 1 · {NEW_MARK} new since the last digest"
    )


def test_someone_elses_text_cannot_format_ping_or_break_a_page() -> None:
    nasty = "**bold** <@123> <t:0:R> [x](https://evil) # head\n> quote " + "😀" * 3000
    content = DigestContent(
        DAY,
        reviews=[PendingReview(1, nasty, nasty, NOW)],
        mentions=[UnansweredMention(nasty, NOW, nasty, link="javascript:alert(1)")] * 50,
        actions=[OwnerAction(OwnerActionKind.UNCERTAIN, nasty, nasty, NOW)],
    )
    pages = build_pages(content, SNAPSHOT)
    for page in pages:
        assert check_limits(page) == []
        check_message(page.message())
    # What renders is what is left once the escaped characters are taken out.
    rendered = re.sub(r"\\.", "", "\n".join(_lines(pages)))
    for markup in ("<@123>", "<t:0:R>", "**bold**", "](https://evil)", "# head", "> quote"):
        assert markup not in rendered
    assert "javascript:" not in rendered  # only https links become [jump] links
    assert len(_item_lines(pages)) == 1 + 50 + 1  # each item one line


def test_emoji_count_double_as_discord_counts_them() -> None:
    assert text_len("😀") == 2 and text_len("é") == 1 and text_len("abc") == 3


def test_check_limits_names_what_is_over() -> None:
    page = Page(
        0,
        embeds=tuple({"title": "t" * 257, "description": "d" * 4000} for _ in range(2)),
        components=tuple(
            {"type": 1, "components": [{"type": 2, "custom_id": "x", "label": "a"}] * 6}
            for _ in range(6)
        ),
    )
    problems = check_limits(page)
    assert "embeds[0].title: 257 > 256" in problems
    assert "embeds, all together: 8514 > 6000" in problems
    assert "component rows: 6 > 5" in problems
    assert "components[0] buttons: 6 > 5" in problems
    assert any("repeats" in p for p in problems)


def test_a_decision_listed_twice_is_a_bug_upstream() -> None:
    review = PendingReview(5, "a", "r", NOW)
    with pytest.raises(ValueError, match="listed twice"):
        build_pages(DigestContent(DAY, reviews=[review, review]), SNAPSHOT)


def test_thousands_of_count_rows_paginate_too() -> None:
    counts = [DecisionCount("ignore", f"rule number {i}", i) for i in range(3000)]
    content = DigestContent(DAY, counts=counts, mentions=_mentions(1))
    pages = build_pages(content, SNAPSHOT)
    assert all(check_limits(p) == [] for p in pages)
    assert sum(line.startswith("  rule number ") for line in _lines(pages)) == 3000


names = st.text(st.characters(codec="utf-8"), min_size=0, max_size=300)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_reviews=st.integers(0, 60),
    n_mentions=st.integers(0, 60),
    name=names,
    excerpt=names,
    new=st.booleans(),
)
def test_any_content_fits_and_keeps_every_item(
    n_reviews: int, n_mentions: int, name: str, excerpt: str, new: bool
) -> None:
    content = DigestContent(
        DAY,
        reviews=[PendingReview(i, name, excerpt, NOW, new) for i in range(n_reviews)],
        mentions=[UnansweredMention(name, NOW, excerpt, new=new) for _ in range(n_mentions)],
    )
    pages = build_pages(content, SNAPSHOT, EmptyDigest.ONE_LINE)
    for page in pages:
        assert check_limits(page) == []
    if n_reviews + n_mentions == 0:
        assert len(pages) == 1 and pages[0].content
        return
    items = _item_lines(pages)
    assert len(items) == n_reviews + n_mentions
    assert sorted(i for p in pages for i in p.review_ids) == list(range(n_reviews))


@pytest.mark.parametrize("module", ["digest_pages.py", "digest_schedule.py"])
def test_the_digest_modules_stay_pure(module: str) -> None:
    import ast
    from pathlib import Path

    source = Path(__file__).resolve().parents[2] / "bot" / "service" / module
    imported = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported, "the module was read"
    assert not imported & {"discord", "aiosqlite", "apscheduler", "aiohttp", "asyncio"}
