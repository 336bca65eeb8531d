"""Settings: a malformed value stops start-up with one line naming the variable."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


def test_ids_are_read_from_comma_separated_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWBACK_GUILD_IDS", "11, 22")
    monkeypatch.setenv("FOLLOWBACK_DELEGATE_IDS", "33")
    settings = load_settings(_env_file=None)
    assert settings.guild_ids == [11, 22]
    assert settings.delegate_ids == [33]


def test_a_malformed_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWBACK_OWNER_ID", "not-a-number")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert message.startswith("setting FOLLOWBACK_OWNER_ID:")
    assert "\n" not in message


def test_the_token_is_secret_and_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi")
    settings = load_settings(_env_file=None)
    assert settings.token is not None
    assert settings.token.get_secret_value() == "abc.def.ghi"
    assert "abc.def.ghi" not in repr(settings)
    assert "abc.def.ghi" not in str(settings)


def test_the_token_is_read_from_a_dotenv_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    env = tmp_path / ".env"
    env.write_text("DISCORD_TOKEN=from-file\nFOLLOWBACK_LOG_LEVEL=debug\n")
    settings = load_settings(_env_file=env)
    assert settings.token is not None and settings.token.get_secret_value() == "from-file"
    assert settings.log_level == "DEBUG"


def test_a_bad_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWBACK_LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError, match="FOLLOWBACK_LOG_LEVEL"):
        load_settings(_env_file=None)
