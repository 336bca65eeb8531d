from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.policy import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 1d 12h ", timedelta(days=1, hours=12)),
        ("0s", timedelta(0)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [("", "empty"), ("90", "no unit"), ("3x", "bad duration"), ("d", "bad"), ("1.5h", "bad")],
)
def test_parse_errors_say_how_to_fix(text: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint) as info:
        parse_duration(text)
    assert "12h" in str(info.value) or "100 years" in str(info.value)


def test_parse_rejects_non_text_and_absurd_lengths() -> None:
    with pytest.raises(ValueError):
        parse_duration(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="100 years"):
        parse_duration("999999999w")


def test_format() -> None:
    assert format_duration(timedelta(days=1, hours=12)) == "1d12h"
    assert format_duration(timedelta(0)) == "0s"
    assert format_duration(timedelta(days=30, seconds=59)) == "30d59s"
    assert format_duration(timedelta(days=3, hours=4, minutes=5), parts=2) == "3d4h"
    assert format_duration(-timedelta(hours=2)) == "-2h"


@given(st.integers(min_value=0, max_value=10**9))
def test_format_round_trips(seconds: int) -> None:
    td = timedelta(seconds=seconds)
    assert parse_duration(format_duration(td)) == td
