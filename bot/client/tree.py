"""One CommandTree for the bot: every error, from commands, autocomplete and buttons alike,
becomes a short ephemeral answer and a log line. No traceback ever reaches Discord.

Also the one admin check (`admin_only`): the owner and the delegates in the settings,
checked before any argument is looked up or anything is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot.policy.editing import ListEditError
from bot.service.reviews import OwnerInputError

log = logging.getLogger(__name__)

REFUSED = "Only the bot's owner and their delegates can use this command."
FAILED = "Something went wrong on the bot's side; the owner's log has the details."
MESSAGE_LIMIT = 2000

# Errors whose words are meant for the person who typed the command.
USER_ERRORS = (OwnerInputError, ListEditError, ValueError)


async def admin_only(interaction: discord.Interaction) -> bool:
    """The owner or a delegate (discord.py's is_owner honours owner_id / owner_ids)."""
    client = interaction.client
    is_owner = getattr(client, "is_owner", None)
    if is_owner is None or not await is_owner(interaction.user):
        raise app_commands.CheckFailure(REFUSED)
    return True


def words_for(error: BaseException) -> str:
    """The short answer for an error (and a log line with the traceback when it is a bug)."""
    original = getattr(error, "original", None) or error  # CommandInvokeError wraps
    if isinstance(original, app_commands.CheckFailure):
        return str(original) or REFUSED
    if isinstance(original, USER_ERRORS):
        return str(original)
    if isinstance(original, app_commands.TransformerError):
        return str(original)
    log.error("interaction failed", exc_info=original)
    return FAILED


async def answer(interaction: discord.Interaction, text: str, **kw: Any) -> None:
    """Ephemeral, whether or not the interaction was already answered (or deferred)."""
    text = text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 4] + "\n..."
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, **kw)
    else:
        await interaction.response.send_message(text, ephemeral=True, **kw)


async def report(interaction: discord.Interaction, error: BaseException) -> None:
    text = words_for(error)
    log.info(
        "interaction by %s (%s) answered with an error: %s",
        interaction.user.id,
        _what(interaction),
        text,
    )
    try:
        await answer(interaction, text)
    except discord.HTTPException as exc:  # expired token, already answered: log only
        log.warning("could not answer interaction %s: %s", interaction.id, exc)


def _what(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return "/" + interaction.command.qualified_name
    data: dict[str, Any] = dict(interaction.data or {})
    return str(data.get("custom_id", interaction.type.name))


class FollowbackTree(app_commands.CommandTree[Any]):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report(interaction, error)


class OwnerClick:
    """For persistent buttons (mixed in before discord.ui.DynamicItem): only the owner and
    the delegates may press them, and an error is answered like a command's, since
    discord.py only logs a DynamicItem's. Subclasses implement `act`."""

    refused = REFUSED

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if not await interaction.client.is_owner(interaction.user):  # type: ignore[attr-defined]
                await answer(interaction, self.refused)  # nothing looked up, nothing done
                return
            await self.act(interaction)
        except Exception as exc:
            await report(interaction, exc)

    async def act(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


def choices(
    make: Callable[[], list[app_commands.Choice[str]]],
) -> list[app_commands.Choice[str]]:
    """discord.py only logs autocomplete errors: here they give no choices and a log line."""
    try:
        return make()[:25]
    except Exception:
        log.exception("autocomplete failed")
        return []
