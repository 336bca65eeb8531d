"""Settings: blank means unset; every setting is checked at once, one line per problem."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.bundled import DEFAULT_POLICY, policy_path
from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings from the developer's environment; run in an empty folder."""
    for name in list(os.environ):
        if name.startswith("FOLLOWBACK_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_env_example_copied_as_is_loads(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    settings = load_settings()
    assert settings.token is None  # `DISCORD_TOKEN=`: no token, the demo runs
    assert settings.owner_id is None
    assert settings.digest_channel_id is None
    assert settings.guild_ids == [] and settings.delegate_ids == []
    assert settings.api_base is None
    assert settings.churn_window == "7d"
    assert settings.policy.is_file()
    assert not (tmp_path / "data").exists()  # loading creates nothing


def test_the_default_policy_is_the_local_one_when_there_is_one(tmp_path: Path) -> None:
    assert load_settings(_env_file=None).policy == policy_path(DEFAULT_POLICY)
    local = tmp_path / "policies" / DEFAULT_POLICY
    local.parent.mkdir()
    shutil.copy(policy_path(DEFAULT_POLICY), local)
    assert load_settings(_env_file=None).policy.resolve() == local.resolve()


def test_ids_are_read_from_comma_separated_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWBACK_GUILD_IDS", "11, 22")
    monkeypatch.setenv("FOLLOWBACK_DELEGATE_IDS", "33")
    settings = load_settings(_env_file=None)
    assert settings.guild_ids == [11, 22]
    assert settings.delegate_ids == [33]


def test_a_malformed_setting_names_the_variable_the_value_and_what_is_expected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FOLLOWBACK_OWNER_ID", "not-a-number")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert message.startswith("setting FOLLOWBACK_OWNER_ID:")
    assert "'not-a-number'" in message and "expected a Discord user id" in message
    assert "\n" not in message


def test_every_bad_setting_is_reported_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    bad = {
        "FOLLOWBACK_CHURN_WINDOW": "forever",
        "FOLLOWBACK_API_BASE": "not a url",
        "FOLLOWBACK_OWNER_ID": "-3",
        "FOLLOWBACK_GUILD_IDS": "1,x",
        "FOLLOWBACK_DIGEST_CHANNEL_ID": "0",
        "FOLLOWBACK_POLICY": "missing.yaml",
        "FOLLOWBACK_DATABASE": str(blocker / "db.sqlite3"),
        "FOLLOWBACK_LOG_LEVEL": "loud",
    }
    for name, value in bad.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DISCORD_TOKEN", "planted-secret")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    lines = str(caught.value).splitlines()
    assert len(lines) == len(bad)
    for name, value in bad.items():
        (line,) = [line for line in lines if line.startswith(f"setting {name}:")]
        assert repr(value.split(",")[-1]) in line
        assert "; expected " in line
    assert "planted-secret" not in str(caught.value)
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "https://discord.com", "http://localhost:1/"]
)
def test_good_api_bases_are_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("FOLLOWBACK_API_BASE", url)
    assert load_settings(_env_file=None).api_base == url


@pytest.mark.parametrize("url", ["127.0.0.1:8765", "ftp://host", "http://", "http://h:port"])
def test_bad_api_bases_are_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("FOLLOWBACK_API_BASE", url)
    with pytest.raises(SettingsError, match="FOLLOWBACK_API_BASE"):
        load_settings(_env_file=None)


def test_a_folder_as_policy_or_database_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FOLLOWBACK_POLICY", str(tmp_path))
    monkeypatch.setenv("FOLLOWBACK_DATABASE", str(tmp_path))
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    assert len(str(caught.value).splitlines()) == 2


def test_a_database_in_new_folders_is_accepted_without_creating_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FOLLOWBACK_DATABASE", str(tmp_path / "a" / "b" / "db.sqlite3"))
    load_settings(_env_file=None)
    assert not (tmp_path / "a").exists()


def test_the_token_is_secret_and_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi")
    settings = load_settings(_env_file=None)
    assert settings.token is not None
    assert settings.token.get_secret_value() == "abc.def.ghi"
    assert "abc.def.ghi" not in repr(settings)
    assert "abc.def.ghi" not in str(settings)


def test_the_token_is_read_from_a_dotenv_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DISCORD_TOKEN=from-file\nFOLLOWBACK_LOG_LEVEL=debug\n")
    settings = load_settings(_env_file=env)
    assert settings.token is not None and settings.token.get_secret_value() == "from-file"
    assert settings.log_level == "DEBUG"


def test_a_bad_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWBACK_LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError, match="FOLLOWBACK_LOG_LEVEL"):
        load_settings(_env_file=None)
