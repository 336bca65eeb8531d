"""Members written by people: ages relative to a reference time, helpful errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.policy import EXAMPLE_NOW, SpecError, member_from_spec, mention_from_spec


def test_ages_are_relative_to_the_reference_time() -> None:
    m = member_from_spec({"name": "ada", "account_age": "2d", "in_server": "1h"}, EXAMPLE_NOW)
    assert m.created_at == EXAMPLE_NOW - timedelta(days=2)
    assert m.joined_at == EXAMPLE_NOW - timedelta(hours=1)


def test_defaults_are_a_year_old_account_that_just_joined() -> None:
    m = member_from_spec({}, EXAMPLE_NOW)
    assert (m.username, m.joined_at) == ("someone", EXAMPLE_NOW)
    assert m.created_at == EXAMPLE_NOW - timedelta(days=365)
    assert m.id == member_from_spec({}, EXAMPLE_NOW).id  # stable default id


def test_all_facts_carry_over() -> None:
    m = member_from_spec(
        {
            "name": "x",
            "id": "42",
            "nick": "N",
            "global_name": "G",
            "bot": True,
            "roles": ["VIP", 7],
            "messages": 3,
            "churned": 2,
            "observed": True,
            "recent_joins": ["1m", "20m"],
            "created_at": "2024-01-01T00:00:00Z",
        },
        EXAMPLE_NOW,
    )
    assert (m.id, m.nick, m.global_name, m.display_name) == (42, "N", "G", "N")
    assert m.bot and m.observed and (m.messages, m.churned) == (3, 2)
    assert m.roles == frozenset({"VIP", "7"})
    assert m.recent_joins == (
        EXAMPLE_NOW - timedelta(minutes=20),
        EXAMPLE_NOW - timedelta(minutes=1),
    )
    assert m.created_at is not None and m.created_at.year == 2024


@pytest.mark.parametrize(
    ("spec", "key", "fragment"),
    [
        ({"nmae": "x"}, "nmae", "did you mean 'name'"),
        ({"bot": "yes"}, "bot", "true or false"),
        ({"messages": -1}, "messages", "whole number"),
        ({"account_age": "2 days"}, "account_age", "bad duration"),
        ({"created_at": "2024-01-01T00:00:00"}, "created_at", "needs a timezone"),
        ({"roles": "VIP"}, "roles", "list of role names"),
        ({"id": "abc"}, "id", "Discord id"),
    ],
)
def test_errors_name_the_key(spec: dict[str, object], key: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        member_from_spec(spec, EXAMPLE_NOW)
    assert info.value.key == key and fragment in info.value.message


def test_mentions() -> None:
    m = mention_from_spec({"text": "hi", "author": {"name": "ada", "bot": True}}, EXAMPLE_NOW)
    assert (m.text, m.author.username, m.author.bot, m.mentions_owner) == ("hi", "ada", True, True)
    with pytest.raises(SpecError) as info:
        mention_from_spec({"author": {"bot": 1}}, EXAMPLE_NOW)
    assert info.value.key == "author.bot"
