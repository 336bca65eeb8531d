"""The owner's slash commands. Thin: each one checks who asks (admin_only, before any
argument is looked up), hands over to a service and says the result, ephemerally."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.client.bot import FollowbackBot
from bot.client.tree import admin_only, answer, choices
from bot.client.views.review import pending_page, tools_of
from bot.policy import PolicyError, load_policy
from bot.policy.editing import list_entries
from bot.service.control import OwnerTools
from bot.service.reviews import decided_words

log = logging.getLogger(__name__)

ADMIN_HINT = discord.Permissions(manage_guild=True)  # a hint for Discord's UI, not a check
PERIODS = ("24h", "7d", "30d", "today", "yesterday", "all")
ACTION_WORDS = {"approve": "approved", "decline": "declined", "follow": "followed by hand",
                "unfollow": "unfollowed by hand", "list_add": "added to a list",
                "list_remove": "removed from a list"}  # fmt: skip


def _tools(interaction: discord.Interaction) -> OwnerTools:
    return tools_of(interaction)


def _guild(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise ValueError("use this command in a server the bot watches")
    return interaction.guild_id


class OwnerCog(commands.Cog):
    def __init__(self, bot: FollowbackBot) -> None:
        self.bot = bot

    # --- reviews and members -----------------------------------------------------------

    @app_commands.command(name="pending", description="Held reviews, newest first, with buttons")
    @app_commands.describe(page="Which page (1 is the newest)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(admin_only)
    async def pending(self, interaction: discord.Interaction, page: int = 1) -> None:
        content, view = await pending_page(_tools(interaction), max(page, 1) - 1)
        await interaction.response.send_message(content, view=view, ephemeral=True)

    @app_commands.command(name="explain", description="The policy's decision now, and history")
    @app_commands.describe(member="The member to explain")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(admin_only)
    async def explain(self, interaction: discord.Interaction, member: discord.User) -> None:
        tools = _tools(interaction)
        lines, history = await tools.reviews.explain(_guild(interaction), member.id)
        out = ["```", *lines, "```", "**History**"]
        for d in history.decisions:
            who = "the owner" if d.rule == "owner" else "the policy"
            when = d.decided_at.strftime("%Y-%m-%d %H:%M UTC")
            out.append(
                f"- {when}: {d.action.value} by {who} (rule `{d.rule}`, policy {d.policy_version})"
            )
        for a in history.owner_actions:
            when = a.at.strftime("%Y-%m-%d %H:%M UTC")
            out.append(f"- {when}: {ACTION_WORDS.get(a.action, a.action)} by <@{a.actor_id}>")
        if not history.decisions and not history.owner_actions:
            out.append("- nothing stored yet")
        await answer(interaction, "\n".join(out))

    @app_commands.command(name="follow", description="Follow a member back by hand")
    @app_commands.describe(member="The member to follow back")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(admin_only)
    async def follow(self, interaction: discord.Interaction, member: discord.User) -> None:
        await _tools(interaction).reviews.follow(
            _guild(interaction), member.id, interaction.user.id
        )
        await answer(interaction, f"Following <@{member.id}> back (recorded as your decision).")

    @app_commands.command(name="unfollow", description="Unfollow a member by hand")
    @app_commands.describe(member="The member to unfollow")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(admin_only)
    async def unfollow(self, interaction: discord.Interaction, member: discord.User) -> None:
        await _tools(interaction).reviews.unfollow(
            _guild(interaction), member.id, interaction.user.id
        )
        await answer(interaction, f"Unfollowed <@{member.id}> (recorded as your decision).")

    # --- stats, pause ---------------------------------------------------------------

    @app_commands.command(name="stats", description="Decisions and DMs over a period")
    @app_commands.describe(period="24h, 7d, 30d, today, yesterday or all (default 7d)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(admin_only)
    async def stats(self, interaction: discord.Interaction, period: str = "7d") -> None:
        result = await _tools(interaction).stats.over(period)  # ValueError: said back
        await answer(interaction, "\n".join(result.lines()))

    @stats.autocomplete("period")
    async def _periods(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return choices(
            lambda: [app_commands.Choice(name=p, value=p) for p in PERIODS if current in p]
        )

    @app_commands.command(name="pause", description="Stop acting: nothing is sent, timers wait")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(admin_only)
    async def pause(self, interaction: discord.Interaction) -> None:
        changed = await _tools(interaction).pause.pause(interaction.user.id)
        await answer(
            interaction,
            "Paused: nothing leaves the outbox and timers wait; everything is still recorded."
            if changed
            else "Already paused.",
        )

    @app_commands.command(name="resume", description="Act again after /pause")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(admin_only)
    async def resume(self, interaction: discord.Interaction) -> None:
        changed = await _tools(interaction).pause.resume(interaction.user.id)
        await answer(interaction, "Resumed." if changed else "Not paused.")

    # --- /list ----------------------------------------------------------------------

    lists = app_commands.Group(
        name="list", description="The policy file's lists", default_permissions=ADMIN_HINT
    )

    @lists.command(name="add", description="Add a member to a list in the policy file")
    @app_commands.describe(name="The list", member="The member to add")
    @app_commands.check(admin_only)
    async def list_add(
        self, interaction: discord.Interaction, name: str, member: discord.User
    ) -> None:
        await self._edit_list(interaction, name, str(member.id), add=True)

    @lists.command(name="remove", description="Remove an entry from a list in the policy file")
    @app_commands.describe(name="The list", entry="A Discord id or a username in the list")
    @app_commands.check(admin_only)
    async def list_remove(self, interaction: discord.Interaction, name: str, entry: str) -> None:
        await self._edit_list(interaction, name, entry, add=False)

    @lists.command(name="show", description="Show a list of the policy file")
    @app_commands.describe(name="The list")
    @app_commands.check(admin_only)
    async def list_show(self, interaction: discord.Interaction, name: str) -> None:
        entries = list_entries(_tools(interaction).policies.current, name)
        shown = ", ".join(f"`{e}`" for e in entries) or "(empty)"
        await answer(interaction, f"**{name}** ({len(entries)}): {shown}")

    @list_add.autocomplete("name")
    @list_remove.autocomplete("name")
    @list_show.autocomplete("name")
    async def _list_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = sorted(self.bot.services.policies.current.lists)
        return choices(
            lambda: [
                app_commands.Choice(name=n, value=n) for n in names if current.lower() in n.lower()
            ]
        )

    @list_remove.autocomplete("entry")
    async def _list_entries(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        name = str(getattr(interaction.namespace, "name", "") or "")
        policy = self.bot.services.policies.current
        return choices(
            lambda: [
                app_commands.Choice(name=e, value=e)
                for e in list_entries(policy, name)
                if current.lower() in e.lower()
            ]
        )

    async def _edit_list(
        self, interaction: discord.Interaction, name: str, entry: str, *, add: bool
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # file work
        tools = _tools(interaction)
        done = await tools.announcer.edit_list(interaction.user.id, name, entry, add=add)
        if not done.changed:
            await answer(interaction, f"`{entry}` is already in **{name}**; nothing written.")
            return
        verb = "Added" if add else "Removed"
        where = "to" if add else "from"
        await answer(
            interaction, f"{verb} `{entry}` {where} **{name}** ({len(done.entries)} entries)."
        )

    # --- /followback status: for members, not an admin command -------------------------

    followback = app_commands.Group(name="followback", description="Where you stand")

    @followback.command(name="status", description="Where you stand with the owner (private)")
    async def followback_status(self, interaction: discord.Interaction) -> None:
        tools = _tools(interaction)
        words = None
        if tools.member_status is not None:
            words = await tools.member_status.words_for(
                _guild(interaction), interaction.user.id, interaction.user.display_name
            )
        await answer(interaction, words or "This server does not offer that command.")

    # --- /policy --------------------------------------------------------------------

    policy = app_commands.Group(
        name="policy", description="The policy file", default_permissions=ADMIN_HINT
    )

    @policy.command(name="reload", description="Load the policy file again now")
    @app_commands.check(admin_only)
    async def policy_reload(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        tools = _tools(interaction)
        outcome = await tools.announcer.reload()
        await tools.store.record_owner_action(
            interaction.user.id,
            "policy_reload",
            tools.clock.now(),
            policy_version=tools.policies.current.version,
        )
        await answer(interaction, outcome.text)

    @policy.command(name="check", description="Check the policy file on disk, without loading")
    @app_commands.check(admin_only)
    async def policy_check(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        path = _tools(interaction).policies.path
        try:
            checked = await asyncio.to_thread(load_policy, path)
        except PolicyError as exc:
            await answer(interaction, f"The policy file has problems:\n```\n{exc}\n```")
            return
        await answer(interaction, f"The policy file is valid (version {checked.version}).")

    @policy.command(name="show", description="The policy in force: version, file, rules")
    @app_commands.check(admin_only)
    async def policy_show(self, interaction: discord.Interaction) -> None:
        holder = _tools(interaction).policies
        p = holder.current
        rules = ", ".join(f"`{r.name}`" for r in p.rules) or "none"
        lists = ", ".join(f"`{n}` ({len(v)})" for n, v in sorted(p.lists.items())) or "none"
        await answer(
            interaction,
            f"Policy version {p.version} from `{holder.path}`\nrules, in order: {rules}\n"
            f"lists: {lists}",
        )


__all__ = ["OwnerCog", "decided_words"]


async def setup(bot: commands.Bot) -> None:
    """Loaded by name (`bot.load_extension`) from FollowbackBot.setup_hook."""
    if not isinstance(bot, FollowbackBot):
        raise TypeError("the owner cog needs a FollowbackBot")
    await bot.add_cog(OwnerCog(bot))
