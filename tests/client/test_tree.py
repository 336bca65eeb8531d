"""The one CommandTree's words for errors: the user's own mistakes said back, bugs hidden."""

from __future__ import annotations

import logging

import pytest
from discord import app_commands

from bot.client.tree import FAILED, REFUSED, words_for
from bot.policy.editing import NotInList
from bot.service.reviews import OwnerInputError


def test_a_refusal_and_the_owners_mistakes_are_said_back() -> None:
    assert words_for(app_commands.CheckFailure(REFUSED)) == REFUSED
    assert words_for(OwnerInputError("no such member")) == "no such member"
    assert words_for(NotInList("known", "bob")) == "'bob' is not in the list 'known'"
    assert words_for(ValueError("write 7d")) == "write 7d"


def test_a_bug_is_logged_and_answered_without_its_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = RuntimeError("secret internals")
    with caplog.at_level(logging.ERROR, logger="bot.client.tree"):
        assert words_for(error) == FAILED
    assert "secret internals" in caplog.text  # in the log, not in Discord
    assert "secret" not in FAILED
