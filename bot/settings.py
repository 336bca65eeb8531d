"""Settings from the environment and `.env` (pydantic-settings). See `.env.example`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(Exception):
    """A missing or malformed setting; the message is one line naming the variable."""


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FOLLOWBACK_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "FOLLOWBACK_TOKEN")
    )
    policy: Path = Path("policies/late-and-announced.yaml")
    database: Path = Path("data/followback.sqlite3")
    owner_id: int | None = None
    delegate_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    guild_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    digest_channel_id: int | None = None
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
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level


_ENV_NAMES = {"token": "DISCORD_TOKEN"}


def load_settings(**overrides: object) -> Settings:
    """Load settings; any problem becomes a one-line SettingsError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = _ENV_NAMES.get(field, f"FOLLOWBACK_{field.upper()}")
        raise SettingsError(f"setting {name}: {error['msg']}") from None
