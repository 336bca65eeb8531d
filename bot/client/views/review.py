"""Review buttons (Approve / Decline) and /pending's page buttons, as DynamicItems: the
custom_id carries what they act on, so they work after any restart. The decision is a
conditional write in the store: a double click or two delegates at once act once, and
the one who lost is told who decided and when. Errors are answered, never only logged."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.client.tree import OwnerClick, answer
from bot.service.control import OwnerTools
from bot.service.digest_pages import (
    REVIEW_ID_TEMPLATE,
    Verdict,
    parse_review_custom_id,
    review_custom_id,
)
from bot.service.reviews import ReviewLine, decided_words

PAGE_TEMPLATE = r"pending:(?P<page>[0-9]+)"


def tools_of(interaction: discord.Interaction) -> OwnerTools:
    services = interaction.client.services  # type: ignore[attr-defined]
    assert services.owner_tools is not None, "owner tools are attached before connecting"
    tools: OwnerTools = services.owner_tools
    return tools


class ReviewButton(
    OwnerClick, discord.ui.DynamicItem[discord.ui.Button[Any]], template=REVIEW_ID_TEMPLATE
):
    def __init__(self, decision_id: int, verdict: Verdict, number: int = 0) -> None:
        approve = verdict is Verdict.APPROVE
        label = ("Approve" if approve else "Decline") + (f" {number}" if number else "")
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=review_custom_id(decision_id, verdict),
            )
        )
        self.decision_id = decision_id
        self.verdict = verdict

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReviewButton:
        return cls(int(match["decision"]), Verdict(match["verdict"]))

    async def act(self, interaction: discord.Interaction) -> None:
        tools = tools_of(interaction)
        outcome = await tools.reviews.decide(
            self.decision_id, self.verdict.value, interaction.user.id, "button"
        )
        await refresh(interaction, tools)
        if outcome.decided:
            return
        if outcome.verdict is not None:
            text = f"Already decided: {decided_words(outcome.verdict)}."
        elif outcome.exists:
            text = "Already decided: this review is no longer pending (decided again, or left)."
        else:
            text = "There is no such review."
        await answer(interaction, text)


class PendingPageButton(
    OwnerClick, discord.ui.DynamicItem[discord.ui.Button[Any]], template=PAGE_TEMPLATE
):
    def __init__(self, page: int, label: str = "", disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or f"Page {page + 1}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"pending:{page}",
                disabled=disabled,
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PendingPageButton:
        return cls(int(match["page"]))

    async def act(self, interaction: discord.Interaction) -> None:
        content, view = await pending_page(tools_of(interaction), self.page)
        await interaction.response.edit_message(content=content, view=view)


async def pending_page(tools: OwnerTools, page: int) -> tuple[str, discord.ui.View]:
    """Page `page` (0-based) of the held reviews, newest first, with their buttons."""
    size = tools.page_size
    rows, total = await tools.reviews.pending(tools.guild_ids or None, page, size)
    view = discord.ui.View(timeout=None)
    if total == 0:
        return "Nothing is waiting for review.", view
    if not rows and page > 0:
        return await pending_page(tools, (total - 1) // size)
    first = page * size + 1
    lines = [f"**Pending reviews** ({first}–{first + len(rows) - 1} of {total}), newest first:"]
    for n, row in enumerate(rows, first):
        when = discord.utils.format_dt(row.held_at, "R")
        name = (
            row.display_name
            if row.display_name == row.username
            else (f"{row.display_name} ({row.username})")
        )
        lines.append(f"{n}. **{name}** (<@{row.user_id}>): rule `{row.rule}`, held {when}")
        _add_review_buttons(view, row.decision_id, n, n - first)
    if total > size:
        last = (total - 1) // size
        view.add_item(PendingPageButton(max(page - 1, 0), "◀ Newer", disabled=page == 0))
        view.add_item(PendingPageButton(page + 1, "Older ▶", disabled=page >= last))
    return "\n".join(lines), view


def _add_review_buttons(view: discord.ui.View, decision_id: int, number: int, row: int) -> None:
    view.add_item(_on_row(ReviewButton(decision_id, Verdict.APPROVE, number), row))
    view.add_item(_on_row(ReviewButton(decision_id, Verdict.DECLINE, number), row))


def _on_row(item: ReviewButton, row: int) -> ReviewButton:
    item.item.row = row
    return item


def review_ids(message: discord.Message | None) -> list[int]:
    """The reviews a message has buttons for, in order."""
    ids: list[int] = []
    for action_row in message.components if message is not None else []:
        for child in getattr(action_row, "children", []):
            parsed = parse_review_custom_id(getattr(child, "custom_id", None) or "")
            if parsed is not None and parsed[0] not in ids:
                ids.append(parsed[0])
    return ids


async def refresh(interaction: discord.Interaction, tools: OwnerTools) -> None:
    """Show who decided what on the clicked message: decided reviews lose their buttons.
    A message with embeds (the digest) keeps its text; only its buttons change."""
    message = interaction.message
    lines = await tools.reviews.describe(review_ids(message))
    view = discord.ui.View(timeout=None)
    for n, line in enumerate(lines):
        if line.pending:
            _add_review_buttons(view, line.decision_id, n + 1, min(n, 4))
    if message is not None and message.embeds:
        await interaction.response.edit_message(view=_without_decided(message, lines))
        return
    await interaction.response.edit_message(content=_refreshed(lines), view=view)


def _without_decided(message: discord.Message, lines: list[ReviewLine]) -> discord.ui.View:
    """The message's own buttons, in their rows, less those of decided reviews."""
    decided = {line.decision_id for line in lines if not line.pending}
    view = discord.ui.View(timeout=None)
    for row, action_row in enumerate(message.components):
        for child in getattr(action_row, "children", []):
            custom_id = getattr(child, "custom_id", None)
            parsed = parse_review_custom_id(custom_id or "")
            if parsed is not None and parsed[0] in decided:
                continue
            view.add_item(
                discord.ui.Button(
                    label=getattr(child, "label", None),
                    style=getattr(child, "style", discord.ButtonStyle.secondary),
                    custom_id=custom_id,
                    disabled=bool(getattr(child, "disabled", False)),
                    row=row,
                )
            )
    return view


def _refreshed(lines: list[ReviewLine]) -> str:
    held = sum(line.pending for line in lines)
    head = f"**Reviews** ({held} of {len(lines)} still held here; /pending lists them all):"
    return "\n".join([head, *(f"{n}. {line.words()}" for n, line in enumerate(lines, 1))])


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ReviewButton, PendingPageButton)
