"""The digest's pages: what the owner reads each day, cut to fit Discord. Pure.

`build_pages(content, snapshot_id, when_empty)` turns a `DigestContent` into `Page`s,
one message each, in Discord's JSON shapes (embeds and action rows as plain dicts).

Layout:
- Page 1 opens with a summary (how many of each, how many new), the counts since
  the last digest and a 7-day trend; then the sections, in this order: pending reviews
  (oldest first), unanswered mentions, actions that need the owner, late follow-backs
  due in the next day, observe windows ending, clean-up suggestions.
- Every item is one line, and every item is on some page: nothing is cut off. A long
  section continues on the next page ("Pending reviews (11–20 of 500)").
- Items new since the last digest start with NEW_MARK.
- Times are Discord timestamps (`<t:1700000000:R>`): each reader sees them in their own
  time zone, and "in 3 hours" stays true when an old page is opened again.
- Pending reviews carry Approve / Decline buttons. A message holds 5 rows of 5 buttons;
  one row is kept for page navigation, so the other 4 hold at most REVIEWS_PER_PAGE =
  10 reviews: Approve 1..5 / Decline 1..5 / Approve 6..10 / Decline 6..10, so each
  review's two buttons stand in one column, labelled with the review's number.
- Navigation: « first, ‹ previous, "3 / 60" (disabled), next ›, last », each naming the
  snapshot and the page it shows (`digest:{snapshot}:{page}`); a button that would
  repeat another's target is left out, so custom_ids never repeat within a message.

Text is measured in UTF-16 code units (as Discord's clients count), never fewer than
Python's len(), so a page within `check_limits` is within Discord's limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.policy.model import EmptyDigest

Json = dict[str, Any]

# --- Discord's limits (docs: resources/message.mdx "Embed Limits", components) ---------
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBEDS_TOTAL_LIMIT = 6000  # all embeds of one message together
EMBEDS_PER_MESSAGE = 10
CONTENT_LIMIT = 2000
ROWS_PER_MESSAGE = 5
BUTTONS_PER_ROW = 5
LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100

REVIEWS_PER_PAGE = 10  # 4 rows x 5 buttons, 2 buttons each; the 5th row navigates
NEW_MARK = "🆕"
MAX_LINE = 600  # one item's line, after escaping: keeps every item on one page
COLOUR = 0x5865F2

ACTION_ROW, BUTTON = 1, 2
PRIMARY, SECONDARY, SUCCESS, DANGER = 1, 2, 3, 4


# --- custom_ids: the one place their formats live --------------------------------------
class Verdict(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"


PAGE_ID_TEMPLATE = r"digest:(?P<snapshot>[0-9]+):(?P<page>[0-9]+)"  # for DynamicItem
REVIEW_ID_TEMPLATE = r"review:(?P<decision>[0-9]+):(?P<verdict>approve|decline)"
_PAGE_ID = re.compile(PAGE_ID_TEMPLATE)
_REVIEW_ID = re.compile(REVIEW_ID_TEMPLATE)


def page_custom_id(snapshot_id: int, page: int) -> str:
    """The button that shows page `page` (0-based) of stored digest `snapshot_id`."""
    if snapshot_id < 0 or page < 0:
        raise ValueError("snapshot and page are non-negative")
    return f"digest:{snapshot_id}:{page}"


def parse_page_custom_id(custom_id: str) -> tuple[int, int] | None:
    match = _PAGE_ID.fullmatch(custom_id)
    return (int(match["snapshot"]), int(match["page"])) if match else None


def review_custom_id(decision_id: int, verdict: Verdict) -> str:
    """An Approve / Decline button for a held decision (the same as `/pending`'s)."""
    if decision_id < 0:
        raise ValueError("decision ids are non-negative")
    return f"review:{decision_id}:{verdict.value}"


def parse_review_custom_id(custom_id: str) -> tuple[int, Verdict] | None:
    match = _REVIEW_ID.fullmatch(custom_id)
    return (int(match["decision"]), Verdict(match["verdict"])) if match else None


# --- what a digest holds ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PendingReview:
    decision_id: int
    member: str
    rule: str
    decided_at: datetime
    new: bool = False


@dataclass(frozen=True, slots=True)
class LateFollowBack:
    member: str
    due_at: datetime
    rule: str
    new: bool = False


@dataclass(frozen=True, slots=True)
class ObserveEnding:
    member: str
    ends_at: datetime
    rule: str
    new: bool = False


class MentionState(StrEnum):
    NOTIFY = "notify"  # a rule said: tell the owner
    TOO_OLD = "too_old"  # found late (after downtime): too old to answer automatically


@dataclass(frozen=True, slots=True)
class UnansweredMention:
    author: str
    said_at: datetime
    excerpt: str  # "" when the text is unknown (no message-content intent)
    state: MentionState = MentionState.NOTIFY
    link: str | None = None  # the message's jump URL
    new: bool = False


class OwnerActionKind(StrEnum):
    DM_REFUSED = "dm_refused"
    ROLE_REFUSED = "role_refused"  # missing permissions
    UNCERTAIN = "uncertain"  # in flight during a crash: did it happen?


@dataclass(frozen=True, slots=True)
class OwnerAction:
    kind: OwnerActionKind
    member: str
    detail: str
    at: datetime
    new: bool = False


@dataclass(frozen=True, slots=True)
class DecisionCount:
    decision: str
    rule: str
    count: int


@dataclass(frozen=True, slots=True)
class DecisionTrend:
    decision: str
    per_day: tuple[int, ...]  # the last 7 local days, oldest first


class CleanupReason(StrEnum):
    SILENT = "silent"  # followed back, and silent since `since`
    LEFT_SOON = "left_soon"  # left at `since`, soon after being followed back


@dataclass(frozen=True, slots=True)
class CleanupSuggestion:
    member: str
    reason: CleanupReason
    since: datetime
    new: bool = False


@dataclass(frozen=True, slots=True)
class DigestContent:
    local_date: date  # the owner's day this digest is for
    reviews: Sequence[PendingReview] = ()
    mentions: Sequence[UnansweredMention] = ()
    actions: Sequence[OwnerAction] = ()
    late: Sequence[LateFollowBack] = ()
    observing: Sequence[ObserveEnding] = ()
    cleanups: Sequence[CleanupSuggestion] = ()
    counts: Sequence[DecisionCount] = ()  # since the last digest
    trend: Sequence[DecisionTrend] = ()

    def is_empty(self) -> bool:
        """Nothing for the owner to look at or act on (counts alone are not news)."""
        return not (
            self.reviews
            or self.mentions
            or self.actions
            or self.late
            or self.observing
            or self.cleanups
        )


@dataclass(frozen=True, slots=True)
class Page:
    """One message of the digest, in Discord's JSON shapes."""

    index: int
    embeds: tuple[Json, ...] = ()
    components: tuple[Json, ...] = ()  # action rows
    content: str | None = None
    review_ids: tuple[int, ...] = ()  # the decisions with buttons on this page

    def message(self) -> Json:
        body: Json = {"embeds": list(self.embeds), "components": list(self.components)}
        if self.content is not None:
            body["content"] = self.content
        return body


# --- measuring and checking ------------------------------------------------------------
def text_len(text: str | None) -> int:
    """Length as Discord counts it: UTF-16 code units (an emoji outside the BMP is 2)."""
    if not text:
        return 0
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def check_limits(page: Page) -> list[str]:
    """Every way `page` breaks Discord's message limits; [] when it fits."""
    problems: list[str] = []

    def over(what: str, size: int, limit: int) -> None:
        if size > limit:
            problems.append(f"{what}: {size} > {limit}")

    over("content", text_len(page.content), CONTENT_LIMIT)
    over("embeds", len(page.embeds), EMBEDS_PER_MESSAGE)
    if not page.embeds and not page.content:
        problems.append("an empty message")
    total = 0
    for i, embed in enumerate(page.embeds):
        fields = embed.get("fields") or []
        over(f"embeds[{i}].title", text_len(embed.get("title")), TITLE_LIMIT)
        over(f"embeds[{i}].description", text_len(embed.get("description")), DESCRIPTION_LIMIT)
        over(f"embeds[{i}].fields", len(fields), FIELDS_LIMIT)
        footer = (embed.get("footer") or {}).get("text")
        author = (embed.get("author") or {}).get("name")
        over(f"embeds[{i}].footer", text_len(footer), FOOTER_LIMIT)
        over(f"embeds[{i}].author", text_len(author), AUTHOR_LIMIT)
        total += text_len(embed.get("title")) + text_len(embed.get("description"))
        total += text_len(footer) + text_len(author)
        for j, f in enumerate(fields):
            over(f"embeds[{i}].fields[{j}].name", text_len(f.get("name")), FIELD_NAME_LIMIT)
            over(f"embeds[{i}].fields[{j}].value", text_len(f.get("value")), FIELD_VALUE_LIMIT)
            total += text_len(f.get("name")) + text_len(f.get("value"))
    over("embeds, all together", total, EMBEDS_TOTAL_LIMIT)
    over("component rows", len(page.components), ROWS_PER_MESSAGE)
    seen: set[str] = set()
    for i, row in enumerate(page.components):
        if row.get("type") != ACTION_ROW:
            problems.append(f"components[{i}] is not an action row")
        buttons = row.get("components") or []
        over(f"components[{i}] buttons", len(buttons), BUTTONS_PER_ROW)
        if not buttons:
            problems.append(f"components[{i}] is an empty row")
        for j, button in enumerate(buttons):
            custom_id = str(button.get("custom_id") or "")
            where = f"components[{i}][{j}]"
            if not custom_id:
                problems.append(f"{where} has no custom_id")
            over(f"{where}.custom_id", len(custom_id), CUSTOM_ID_LIMIT)
            over(f"{where}.label", text_len(button.get("label")), LABEL_LIMIT)
            if custom_id in seen:
                problems.append(f"{where}.custom_id {custom_id!r} repeats")
            seen.add(custom_id)
    return problems


# --- lines -----------------------------------------------------------------------------
# Backslash-escaped: markdown, masked links ([x](url)), headings, and "<" so that no
# text can render as a mention, a channel or a timestamp.
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*_~`|>[]#<"})


def _safe(text: str, limit: int) -> str:
    """Someone else's text (a name, a message), shortened and shown as typed: no
    markdown, links, mentions or timestamps of its own."""
    text = " ".join(text.split()) or "(blank)"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_MARKDOWN)


def _when(moment: datetime) -> str:
    return f"<t:{int(moment.timestamp())}:R>"


def _mark(new: bool) -> str:
    return f"{NEW_MARK} " if new else ""


def _review_line(number: int, r: PendingReview) -> str:
    return (
        f"**{number}.** {_mark(r.new)}{_safe(r.member, 64)} · rule *{_safe(r.rule, 80)}*"
        f" · held {_when(r.decided_at)}"
    )


def _mention_line(m: UnansweredMention) -> str:
    said = f"“{_safe(m.excerpt, 160)}”" if m.excerpt else "(text unknown)"
    line = f"{_mark(m.new)}{_safe(m.author, 64)} {_when(m.said_at)}: {said}"
    if m.link and m.link.startswith("https://") and len(m.link) <= 200:
        line += f" [jump]({m.link})"
    if m.state is MentionState.TOO_OLD:
        line += " · too old to answer automatically"
    return line


_ACTION_WORDS = {
    OwnerActionKind.DM_REFUSED: "DM refused",
    OwnerActionKind.ROLE_REFUSED: "role change refused",
    OwnerActionKind.UNCERTAIN: "uncertain after a crash",
}


def _action_line(a: OwnerAction) -> str:
    detail = f": {_safe(a.detail, 160)}" if a.detail else ""
    return (
        f"{_mark(a.new)}**{_ACTION_WORDS[a.kind]}** · {_safe(a.member, 64)} {_when(a.at)}{detail}"
    )


def _late_line(x: LateFollowBack) -> str:
    when = f"follow back {_when(x.due_at)}"
    return f"{_mark(x.new)}{_safe(x.member, 64)} · {when} · rule *{_safe(x.rule, 80)}*"


def _observe_line(x: ObserveEnding) -> str:
    when = f"decided again {_when(x.ends_at)}"
    return f"{_mark(x.new)}{_safe(x.member, 64)} · {when} · rule *{_safe(x.rule, 80)}*"


def _cleanup_line(c: CleanupSuggestion) -> str:
    if c.reason is CleanupReason.SILENT:
        why = f"followed back, silent since {_when(c.since)}"
    else:
        why = f"left {_when(c.since)}, soon after a follow-back"
    return f"{_mark(c.new)}{_safe(c.member, 64)} · {why}"


_SPARKS = "▁▂▃▄▅▆▇█"


def _sparkline(values: Sequence[int]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return _SPARKS[0] * len(values)
    return "".join(_SPARKS[(max(v, 0) * (len(_SPARKS) - 1)) // top] for v in values)


def _count_lines(counts: Sequence[DecisionCount]) -> list[str]:
    totals: dict[str, int] = {}
    for c in counts:
        totals[c.decision] = totals.get(c.decision, 0) + c.count
    lines = []
    for decision in sorted(totals, key=lambda d: (-totals[d], d)):
        lines.append(f"**{_safe(decision, 40)}**: {totals[decision]}")
        rows = sorted((c for c in counts if c.decision == decision), key=lambda c: -c.count)
        lines.extend(f"  {_safe(c.rule, 80)}: {c.count}" for c in rows)
    return lines


def _trend_lines(trend: Sequence[DecisionTrend]) -> list[str]:
    return [
        f"`{_sparkline(t.per_day[-7:])}` {_safe(t.decision, 40)}: {sum(t.per_day[-7:])}"
        f" ({' '.join(str(v) for v in t.per_day[-7:])})"
        for t in trend
    ]


# --- packing ---------------------------------------------------------------------------
@dataclass(slots=True)
class _Section:
    title: str
    lines: list[str]
    reviews: list[PendingReview] | None = None  # one per line, for the buttons
    numbered: bool = True  # the title says which lines an embed holds

    def title_for(self, first: int, end: int) -> str:
        total = len(self.lines)
        if not self.numbered:
            return self.title
        if first == 0 and end == total:
            return f"{self.title} ({total})"
        return f"{self.title} ({first + 1}–{end} of {total})"

    def title_budget(self) -> int:
        n = len(self.lines)
        return text_len(self.title_for(n, n)) if self.numbered else text_len(self.title)


@dataclass(slots=True)
class _EmbedDraft:
    section: _Section
    first: int
    lines: list[str] = field(default_factory=list)
    size: int = 0  # of the description


@dataclass(slots=True)
class _PageDraft:
    embeds: list[_EmbedDraft] = field(default_factory=list)
    size: int = 0  # titles (as budgeted) and descriptions
    reviews: list[tuple[int, PendingReview]] = field(default_factory=list)


_FOOTER_NEW = f" · {NEW_MARK} new since the last digest"
_FOOTER_BUDGET = text_len(f"Page 9999999 of 9999999{_FOOTER_NEW}")
_PAGE_BUDGET = EMBEDS_TOTAL_LIMIT - _FOOTER_BUDGET


def _pack(sections: Iterable[_Section]) -> list[_PageDraft]:
    pages = [_PageDraft()]
    for section in sections:
        title_cost = section.title_budget()
        embed: _EmbedDraft | None = None
        for index, line in enumerate(section.lines):
            size = text_len(line)
            page = pages[-1]
            review = section.reviews[index] if section.reviews is not None else None
            if review is not None and len(page.reviews) == REVIEWS_PER_PAGE:
                page, embed = _PageDraft(), None
                pages.append(page)
            if embed is not None and (
                embed.size + 1 + size > DESCRIPTION_LIMIT or page.size + 1 + size > _PAGE_BUDGET
            ):
                embed = None
            if embed is None:
                if (
                    len(page.embeds) == EMBEDS_PER_MESSAGE
                    or page.size + title_cost + size > _PAGE_BUDGET
                ):
                    page = _PageDraft()
                    pages.append(page)
                embed = _EmbedDraft(section, index)
                page.embeds.append(embed)
                page.size += title_cost
            else:
                size += 1  # the newline before it
            embed.lines.append(line)
            embed.size += size
            page.size += size
            if review is not None:
                page.reviews.append((index + 1, review))
    return [p for p in pages if p.embeds]


def _review_rows(reviews: list[tuple[int, PendingReview]]) -> list[Json]:
    rows = []
    for start in range(0, len(reviews), BUTTONS_PER_ROW):
        chunk = reviews[start : start + BUTTONS_PER_ROW]
        for verdict, label, style in (
            (Verdict.APPROVE, "Approve", SUCCESS),
            (Verdict.DECLINE, "Decline", DANGER),
        ):
            buttons = [
                {
                    "type": BUTTON,
                    "style": style,
                    "label": f"{label} {number}",
                    "custom_id": review_custom_id(r.decision_id, verdict),
                }
                for number, r in chunk
            ]
            rows.append({"type": ACTION_ROW, "components": buttons})
    return rows


def _nav_row(snapshot_id: int, page: int, count: int) -> Json:
    last = count - 1
    targets = [
        ("«", 0, page >= 2),
        ("‹", page - 1, page >= 1),
        (f"{page + 1} / {count}", page, True),
        ("›", page + 1, page <= last - 1),
        ("»", last, page <= last - 2),
    ]
    buttons = []
    for label, target, shown in targets:
        if not shown:
            continue
        button: Json = {
            "type": BUTTON,
            "style": SECONDARY if target == page else PRIMARY,
            "label": label,
            "custom_id": page_custom_id(snapshot_id, target),
        }
        if target == page:
            button["disabled"] = True
        buttons.append(button)
    return {"type": ACTION_ROW, "components": buttons}


def _summary_lines(content: DigestContent) -> list[str]:
    def line(items: Sequence[Any], one: str, many: str, tail: str = "") -> str | None:
        if not items:
            return None
        fresh = sum(1 for x in items if x.new)
        new = f", {fresh} new" if fresh else ""
        return f"**{len(items)}** {one if len(items) == 1 else many}{new}{tail}"

    parts = [
        line(
            content.reviews,
            "pending review",
            "pending reviews",
            " (oldest first, with Approve / Decline)",
        ),
        line(content.mentions, "unanswered mention", "unanswered mentions"),
        line(content.actions, "action that needs you", "actions that need you"),
        line(
            content.late,
            "late follow-back due in the next day",
            "late follow-backs due in the next day",
        ),
        line(content.observing, "observe window ending", "observe windows ending"),
        line(content.cleanups, "clean-up suggestion", "clean-up suggestions"),
    ]
    return [p for p in parts if p]


def _sections(content: DigestContent) -> list[_Section]:
    reviews = sorted(content.reviews, key=lambda r: (r.decided_at, r.decision_id))
    ids = [r.decision_id for r in reviews]
    if len(set(ids)) != len(ids):
        raise ValueError("a decision is listed twice among the pending reviews")
    day = f"{content.local_date:%A} {content.local_date.day} {content.local_date:%B %Y}"
    sections = [
        _Section(f"Digest · {day}", _summary_lines(content), numbered=False),
        _Section("Since the last digest", _count_lines(content.counts), numbered=False),
        _Section("Last 7 days", _trend_lines(content.trend), numbered=False),
        _Section(
            "Pending reviews",
            [_review_line(i + 1, r) for i, r in enumerate(reviews)],
            reviews=reviews,
        ),
        _Section(
            "Unanswered mentions",
            [_mention_line(m) for m in sorted(content.mentions, key=lambda m: m.said_at)],
        ),
        _Section(
            "Actions that need you",
            [_action_line(a) for a in sorted(content.actions, key=lambda a: a.at)],
        ),
        _Section(
            "Late follow-backs in the next day",
            [_late_line(x) for x in sorted(content.late, key=lambda x: x.due_at)],
        ),
        _Section(
            "Observe windows ending",
            [_observe_line(x) for x in sorted(content.observing, key=lambda x: x.ends_at)],
        ),
        _Section(
            "Clean-up suggestions (the bot does nothing about these by itself)",
            [_cleanup_line(c) for c in sorted(content.cleanups, key=lambda c: c.since)],
        ),
    ]
    for section in sections:
        section.lines = [_fit(line) for line in section.lines]
    return [s for s in sections if s.lines]


def _fit(line: str) -> str:
    # Our own formats stay far below this; a guard so that no line can ever stall packing.
    return line if text_len(line) <= MAX_LINE else line[: MAX_LINE // 2 - 1] + "…"


def empty_line(content: DigestContent) -> str:
    total = sum(c.count for c in content.counts)
    since = f" ({total} decisions since the last digest)" if total else ""
    return f"Digest for {content.local_date:%a %d %b}: nothing needs you today{since}."


def build_pages(
    content: DigestContent, snapshot_id: int, when_empty: EmptyDigest = EmptyDigest.SKIP
) -> list[Page]:
    """The digest as messages. An empty day: no pages, or one line, as the policy says."""
    if content.is_empty():
        if when_empty is EmptyDigest.SKIP:
            return []
        return [Page(0, content=empty_line(content))]
    drafts = _pack(_sections(content))
    count = len(drafts)
    any_new = any(
        x.new
        for items in (
            content.reviews,
            content.mentions,
            content.actions,
            content.late,
            content.observing,
            content.cleanups,
        )
        for x in items
    )
    pages = []
    for index, draft in enumerate(drafts):
        embeds: list[Json] = [
            {
                "title": e.section.title_for(e.first, e.first + len(e.lines)),
                "description": "\n".join(e.lines),
                "color": COLOUR,
            }
            for e in draft.embeds
        ]
        footer = f"Page {index + 1} of {count}" + (_FOOTER_NEW if any_new else "")
        embeds[-1]["footer"] = {"text": footer}
        rows = _review_rows(draft.reviews)
        if count > 1:
            rows.append(_nav_row(snapshot_id, index, count))
        pages.append(
            Page(
                index,
                tuple(embeds),
                tuple(rows),
                review_ids=tuple(r.decision_id for _, r in draft.reviews),
            )
        )
    return pages
