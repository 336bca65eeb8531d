"""The digest on Discord: posting a stored page, and the page buttons that survive restarts.

A page is stored as Discord's JSON (bot.service.digest_pages). Its buttons are sent as
plain components in a finished View, so discord.py keeps nothing in memory for them:
clicks are routed by custom_id to DynamicItems (`digest:{snapshot}:{page}` here, the
review buttons' `review:...` in views/review.py), which read the store. They work after
a restart and in DMs (no reactions, no message cache).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.client.tree import OwnerClick
from bot.service.actions import ActionFailed
from bot.service.digest_pages import PAGE_ID_TEMPLATE, page_custom_id

if TYPE_CHECKING:
    from bot.service.digest import DigestService

log = logging.getLogger(__name__)
Json = dict[str, Any]
NO_PINGS = discord.AllowedMentions.none()


def page_parts(body: Json) -> tuple[str | None, list[discord.Embed], discord.ui.View]:
    """A stored page as what discord.py sends: content, embeds, a finished View."""
    embeds = [discord.Embed.from_dict(e) for e in body.get("embeds") or []]
    view = discord.ui.View(timeout=None)
    for row_index, row in enumerate(body.get("components") or []):
        for button in row.get("components") or []:
            view.add_item(
                discord.ui.Button(
                    style=discord.ButtonStyle(int(button.get("style", 2))),
                    label=button.get("label"),
                    custom_id=button["custom_id"],
                    disabled=bool(button.get("disabled", False)),
                    row=row_index,
                )
            )
    view.stop()  # sent as components only: the DynamicItems answer the clicks
    return body.get("content"), embeds, view


class DigestPoster:
    """Posts a stored digest page to a channel or the owner's DMs (for the outbox)."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post_page(
        self, *, channel_id: int | None, user_id: int, body: Json, nonce: str
    ) -> int:
        content, embeds, view = page_parts(body)
        try:
            channel: discord.abc.Messageable
            if channel_id is not None:
                channel = self._client.get_partial_messageable(channel_id)
            else:
                channel = await self._client.create_dm(discord.Object(id=user_id))
            message = await channel.send(
                content, embeds=embeds, view=view, nonce=nonce, allowed_mentions=NO_PINGS
            )
        except discord.HTTPException as exc:
            retry_after = getattr(exc, "retry_after", None)
            raise ActionFailed(exc.status, exc.code or None, exc.text, retry_after) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ActionFailed(0, None, repr(exc)) from exc
        return message.id


def _digest_service(interaction: discord.Interaction[Any]) -> DigestService | None:
    services = getattr(interaction.client, "services", None)
    return getattr(services, "digest", None)


class DigestPageButton(
    OwnerClick, discord.ui.DynamicItem[discord.ui.Button[Any]], template=PAGE_ID_TEMPLATE
):
    """« ‹ › » on a digest: shows page `page` of stored snapshot `snapshot`."""

    refused = "Only the owner can turn the digest's pages."

    def __init__(self, snapshot_id: int, page: int) -> None:
        super().__init__(
            discord.ui.Button(label="page", custom_id=page_custom_id(snapshot_id, page))
        )
        self.snapshot_id = snapshot_id
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> DigestPageButton:
        return cls(int(match["snapshot"]), int(match["page"]))

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        digest = _digest_service(interaction)
        body = None
        if digest is not None:
            body, _ = await digest.page(self.snapshot_id, self.page)
        if body is None:
            await interaction.response.send_message(
                "That digest is no longer stored; `/digest now` sends a fresh one.",
                ephemeral=True,
            )
            return
        content, embeds, view = page_parts(body)
        await interaction.response.edit_message(content=content, embeds=embeds, view=view)
