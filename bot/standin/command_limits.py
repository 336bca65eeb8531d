"""Application command limits (interactions/application-commands.mdx): names, descriptions,
options, choices and the size of a slash command; refused with 400 50035 like Discord does."""

from __future__ import annotations

import re
from typing import Any

from bot.standin.httpkit import ApiError, invalid, text_len

Json = dict[str, Any]

COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
CHAT_INPUT, USER, MESSAGE = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
MAX_OPTIONS = 25
MAX_CHOICES = 25  # "Choices for the user to pick from, max 25"
MAX_COMMAND_SIZE = 8000  # "a maximum of 8000 characters for combined name, description, and value"
# "100 global CHAT_INPUT commands, 15 global USER commands, 15 global MESSAGE commands" (30032)
MAX_PER_TYPE = {CHAT_INPUT: 100, USER: 15, MESSAGE: 15}


def check_commands(commands: list[Json]) -> None:
    """A bulk overwrite: every command valid, names unique per type."""
    if len(commands) > MAX_PER_TYPE[CHAT_INPUT]:
        raise invalid("_root", "Must be 100 or fewer in length.")
    names: set[tuple[str, int]] = set()
    for i, command in enumerate(commands):
        check_command(command, f"{i}.")
        key = (str(command.get("name", "")), int(command.get("type", CHAT_INPUT)))
        if key in names:
            raise invalid(
                f"{i}.name",
                "Application command names must be unique",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
            )
        names.add(key)


def check_command(command: Json, prefix: str = "") -> None:
    """One command; `prefix` is its place in a bulk body ("3.") for the error paths."""
    kind = int(command.get("type", CHAT_INPUT))
    name = str(command.get("name", ""))
    if kind == CHAT_INPUT:
        if not COMMAND_NAME.match(name) or name != name.lower():
            raise invalid(
                f"{prefix}name", "Command name is invalid", "APPLICATION_COMMAND_INVALID_NAME"
            )
        if not 1 <= text_len(command.get("description")) <= 100:
            raise invalid(f"{prefix}description", "Must be between 1 and 100 in length.")
        _check_options(list(command.get("options") or []), f"{prefix}options")
        if command_size(command) > MAX_COMMAND_SIZE:
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                _error_at(
                    prefix.rstrip(".") or "_root",
                    "APPLICATION_COMMAND_TOO_LARGE",
                    f"Command exceeds maximum size ({MAX_COMMAND_SIZE})",
                ),
            )
    elif not 1 <= len(name) <= 32:
        raise invalid(f"{prefix}name", "Must be between 1 and 32 in length.")


def _check_options(options: list[Json], path: str) -> None:
    if len(options) > MAX_OPTIONS:
        raise invalid(path, "Must be 25 or fewer in length.")
    seen_optional = False
    for i, option in enumerate(options):
        here = f"{path}.{i}"
        name = str(option.get("name", ""))
        if not COMMAND_NAME.match(name) or name != name.lower():
            raise invalid(
                f"{here}.name", "Command name is invalid", "APPLICATION_COMMAND_INVALID_NAME"
            )
        if not 1 <= text_len(option.get("description")) <= 100:
            raise invalid(f"{here}.description", "Must be between 1 and 100 in length.")
        if option.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            _check_options(list(option.get("options") or []), f"{here}.options")
            continue
        _check_choices(option, here)
        if option.get("required"):
            if seen_optional:
                raise invalid(
                    f"{here}.required",
                    "Required options must be placed before non-required options",
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                )
        else:
            seen_optional = True


def _check_choices(option: Json, path: str) -> None:
    choices = list(option.get("choices") or [])
    if option.get("autocomplete") and choices:
        # "autocomplete may not be set to true if choices are present"
        raise invalid(
            f"{path}.autocomplete",
            "Autocomplete cannot be set with choices",
            "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES",
        )
    check_choices(choices, f"{path}.choices")


def check_choices(choices: list[Json], path: str) -> None:
    """At most 25; a name of 1-100 characters; a string value of at most 100."""
    if len(choices) > MAX_CHOICES:
        raise invalid(path, "Must be 25 or fewer in length.")
    for k, choice in enumerate(choices):
        if not 1 <= text_len(choice.get("name")) <= 100:
            raise invalid(f"{path}.{k}.name", "Must be between 1 and 100 in length.")
        if text_len(choice.get("value")) > 100:
            raise invalid(f"{path}.{k}.value", "Must be 100 or fewer in length.")


def command_size(command: Json) -> int:
    """Combined name, description and value characters of a command, its options (subcommands
    and groups too) and choices; of a localized field only the longest version counts."""
    total = _field(command, "name") + _field(command, "description")
    for option in command.get("options") or []:
        total += command_size(option)
    for choice in command.get("choices") or []:
        total += _field(choice, "name") + len(str(choice.get("value", "")))
    return total


def _field(item: Json, key: str) -> int:
    localized = item.get(f"{key}_localizations") or {}
    versions = [item.get(key), *localized.values()]
    return max(text_len(v) for v in versions)


def _error_at(path: str, code: str, message: str) -> dict[str, Any]:
    return {path: {"_errors": [{"code": code, "message": message}]}}
