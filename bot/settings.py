"""Settings from the environment and `.env` (pydantic-settings). See `.env.example`.

Every setting is checked when loaded, before any file is created or connection made, and
all problems are reported at once: one line each with the variable, the value given (never
the token's) and what is expected. A blank value means "not set".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.bundled import LOCAL_DEFAULT_POLICY, default_policy_path
from bot.policy import parse_duration

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """Malformed settings; the message has one line per problem, each naming its variable."""


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FOLLOWBACK_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # `FOLLOWBACK_OWNER_ID=` (as in .env.example) means unset
        extra="ignore",
    )

    token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "FOLLOWBACK_TOKEN")
    )
    policy: Path = Field(default_factory=default_policy_path)
    database: Path = Path("data/followback.sqlite3")
    owner_id: PositiveInt | None = None
    delegate_ids: Annotated[list[PositiveInt], NoDecode] = Field(default_factory=list)
    guild_ids: Annotated[list[PositiveInt], NoDecode] = Field(default_factory=list)
    digest_channel_id: PositiveInt | None = None
    churn_window: str = "7d"
    api_base: str | None = None
    log_level: str = "INFO"

    @field_validator("delegate_ids", "guild_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError("not a log level")
        return level

    @field_validator("churn_window")
    @classmethod
    def _duration(cls, value: str) -> str:
        try:
            parse_duration(value)
        except ValueError:
            raise ValueError("not a duration") from None
        return value.strip()

    @field_validator("api_base")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError("not a URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL with a host")
        return value.strip()

    @field_validator("policy")
    @classmethod
    def _readable_file(cls, value: Path) -> Path:
        if not value.exists():
            raise ValueError("no such file")
        if not value.is_file():
            raise ValueError("not a file")
        if not os.access(value, os.R_OK):
            raise ValueError("not readable")
        return value

    @field_validator("database")
    @classmethod
    def _writable_place(cls, value: Path) -> Path:
        problem = database_path_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def database_path_problem(path: Path) -> str | None:
    """Why the bot could not open or create a database at `path` (None: it can). Creates nothing."""
    if path.exists():
        if not path.is_file():
            return "not a file"
        if not os.access(path, os.R_OK | os.W_OK):
            return "not readable and writable"
        folder = path.parent
    else:
        folder = path.parent
        while not folder.exists():  # the nearest folder that exists: the rest will be created
            if folder == folder.parent:
                break
            folder = folder.parent
        if not folder.is_dir():
            return f"{folder} is not a folder"
    # SQLite writes its journal files beside the database.
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write in {folder}"
    return None


_ENV_NAMES = {"token": "DISCORD_TOKEN"}
_EXPECTED = {
    "token": "the bot token from the Developer Portal",
    "policy": f"a readable policy file (blank: {LOCAL_DEFAULT_POLICY}, else the shipped copy)",
    "database": "an SQLite file path in a folder the bot may create and write",
    "owner_id": "a Discord user id (a positive whole number), or blank",
    "delegate_ids": "comma-separated Discord user ids (positive whole numbers)",
    "guild_ids": "comma-separated Discord server ids (positive whole numbers)",
    "digest_channel_id": "a Discord channel id (a positive whole number), or blank",
    "churn_window": "a duration like 12h, 7d or 1d12h",
    "api_base": "an http(s) URL such as http://127.0.0.1:8765, or blank for Discord",
    "log_level": "one of " + ", ".join(LOG_LEVELS),
}


def env_name(field: str) -> str:
    return _ENV_NAMES.get(field, f"FOLLOWBACK_{field.upper()}")


def _describe(error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else "?"
    if field == "token":
        given = "(the value is not shown)"
    else:
        value = error.get("input")
        given = repr(str(value)) if isinstance(value, str | Path | int) else repr(value)
    reason = str(error.get("msg", ""))
    reason = reason.removeprefix("Value error, ")
    expected = _EXPECTED.get(field, "a valid value")
    if error.get("type") != "value_error":  # pydantic's own words add nothing to `expected`
        reason = ""
    why = f" ({reason})" if reason else ""
    return f"setting {env_name(field)}: got {given}{why}; expected {expected}"


def load_settings(**overrides: object) -> Settings:
    """Load and check every setting; all problems become one SettingsError, a line each."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = list(dict.fromkeys(_describe(error) for error in exc.errors()))
        raise SettingsError("\n".join(lines)) from None
