"""Application commands as interactions/application-commands.mdx describes them: the
single-command routes beside the bulk ones, the daily create limit, choices and size limits."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import BareClient

GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"


def _command(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": f"The {name} command", "type": 1, **extra}


def _statuses(standin: StandIn, method: str, route: str) -> list[int]:
    return [r.status for r in standin.recorder.requests(method, route)]


async def test_guild_command_create_get_edit_delete(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """application-commands.mdx "Create Guild Application Command": "Returns 201 if a command
    with the same name does not already exist, or a 200 if it does (in which case the previous
    command will be overwritten)"; "Edit": "any fields provided will entirely overwrite the
    existing values"; "Delete": "Returns 204 No Content"; an unknown command is 10063."""
    app, guild = standin.app_id, world.guild_id
    made = await bot.http.upsert_guild_command(app, guild, _command("digest"))
    again = await bot.http.upsert_guild_command(
        app, guild, _command("digest", description="Now different")
    )
    assert again["id"] == made["id"] and again["description"] == "Now different"
    assert _statuses(standin, "POST", GUILD_COMMANDS) == [201, 200]
    fetched = await bot.http.get_guild_command(app, guild, int(made["id"]))
    assert fetched["guild_id"] == str(guild) and fetched["name"] == "digest"
    edited = await bot.http.edit_guild_command(
        app, guild, int(made["id"]), {"name": "weekly", "options": []}
    )
    assert (edited["name"], edited["description"]) == ("weekly", "Now different")
    assert edited["version"] != fetched["version"]
    assert [c["name"] for c in await bot.http.get_guild_commands(app, guild)] == ["weekly"]
    await bot.http.delete_guild_command(app, guild, int(made["id"]))
    with pytest.raises(discord.NotFound) as exc:
        await bot.http.get_guild_command(app, guild, int(made["id"]))
    assert exc.value.code == 10063
    assert await bot.http.get_guild_commands(app, guild) == []


async def test_global_command_routes_and_duplicate_names_on_edit(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """application-commands.mdx "Create / Get / Edit / Delete Global Application Command", and
    "Your app cannot have two global CHAT_INPUT commands with the same name"."""
    app = standin.app_id
    first = await bot.http.upsert_global_command(app, _command("pending"))
    second = await bot.http.upsert_global_command(app, _command("undo"))
    assert "guild_id" not in first
    assert (await bot.http.get_global_command(app, int(first["id"])))["name"] == "pending"
    with pytest.raises(discord.HTTPException) as exc:
        await bot.http.edit_global_command(app, int(second["id"]), {"name": "pending"})
    assert exc.value.code == 50035
    await bot.http.delete_global_command(app, int(second["id"]))
    assert [c["name"] for c in await bot.http.get_global_commands(app)] == ["pending"]


async def test_the_daily_create_limit_counts_new_commands_only(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """application-commands.mdx: "There is a global rate limit of 200 application command
    creates per day, per guild"; bulk overwrite: "Commands that do not already exist will count
    toward daily application command create limits"; opcodes-and-status-codes.mdx 30034 "Maximum
    number of daily application command creates has been reached (200)"."""
    assert standin.command_creates.limit == 200  # Discord's, unless a test shortens it
    standin.command_creates.set(limit=3)
    app, guild = standin.app_id, world.guild_id
    await bot.http.bulk_upsert_guild_commands(app, guild, [_command("a"), _command("b")])
    # the same two again, plus one new: one more create
    await bot.http.bulk_upsert_guild_commands(
        app, guild, [_command("a"), _command("b"), _command("c")]
    )
    await bot.http.upsert_guild_command(app, guild, _command("c", description="overwritten"))
    with pytest.raises(discord.HTTPException) as exc:
        await bot.http.upsert_guild_command(app, guild, _command("d"))
    assert (exc.value.status, exc.value.code) == (400, 30034)
    assert "(3)" in exc.value.text
    with pytest.raises(discord.HTTPException) as bulk:
        await bot.http.bulk_upsert_guild_commands(app, guild, [_command("a"), _command("e")])
    assert bulk.value.code == 30034
    assert [c["name"] for c in await bot.http.get_guild_commands(app, guild)] == ["a", "b", "c"]
    # another guild has its own count
    other = standin.add_guild("Elsewhere")
    await bot.http.upsert_guild_command(app, other, _command("d"))


async def test_choices_autocomplete_and_the_8000_character_total(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """application-commands.mdx: choices "max 25"; "autocomplete may not be set to true if
    choices are present"; "Slash commands can have a maximum of 8000 characters for combined
    name, description, and value properties for each command, its options (including
    subcommands and groups), and choices. When localization fields are present, only the longest
    localization for each field (including the default value) is counted"."""
    app, guild = standin.app_id, world.guild_id

    def option(**extra: Any) -> dict[str, Any]:
        return {"name": "pick", "description": "Pick one", "type": 3, **extra}

    def choices(n: int, value_len: int = 1) -> list[dict[str, Any]]:
        return [{"name": f"c{i}", "value": f"{i}".rjust(value_len, "v")} for i in range(n)]

    async def refused(command: dict[str, Any]) -> discord.HTTPException:
        with pytest.raises(discord.HTTPException) as exc:
            await bot.http.upsert_guild_command(app, guild, command)
        assert (exc.value.status, exc.value.code) == (400, 50035)
        return exc.value

    await refused(_command("many", options=[option(choices=choices(26))]))
    await refused(_command("both", options=[option(choices=choices(2), autocomplete=True)]))
    await bot.http.upsert_guild_command(
        app, guild, _command("ok", options=[option(choices=choices(25))])
    )

    # 25 choices of 100-character values per option, 4 options: over 8000 in total
    wide = [option(name=f"pick{k}", choices=choices(25, value_len=100)) for k in range(4)]
    too_large = await refused(_command("wide", options=wide))
    assert "APPLICATION_COMMAND_TOO_LARGE" in too_large.text or "8000" in too_large.text
    await bot.http.upsert_guild_command(app, guild, _command("narrow", options=wide[:3]))
    # a long localization counts instead of the short default
    long_name = {"de": "x" * 32}
    description = {"name": "loc", "description": "d" * 100, "type": 1}
    localized = [
        option(
            name=f"p{k}",
            description="d" * 10,
            description_localizations={"fr": "é" * 100},
            name_localizations=long_name,
            choices=choices(25, value_len=100),
        )
        for k in range(3)
    ]
    await refused({**description, "options": localized})
    unlocalized = [
        dict(o, name_localizations=None, description_localizations=None) for o in localized
    ]
    await bot.http.upsert_guild_command(app, guild, {**description, "options": unlocalized})
