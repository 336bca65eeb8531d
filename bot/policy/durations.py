"""Durations as the owner writes them: 30s, 90m, 12h, 7d, 2w, 1d12h."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS: dict[str, int] = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_PART = re.compile(r"(\d{1,9})\s*([wdhms])")
_WHOLE = re.compile(r"(?:\d{1,9}\s*[wdhms]\s*)+")
# Far beyond any sensible policy, and far below timedelta's limits.
_MAX = timedelta(days=36_500)
_HINT = "write a number and a unit, like 30s, 90m, 12h, 7d, 2w or 1d12h"


def parse_duration(text: str) -> timedelta:
    """Parse "90m", "12h", "1d12h" ... into a timedelta; ValueError says how to fix it."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        raise ValueError(f"duration {text} has no unit; {_HINT}")
    if not isinstance(text, str):
        raise ValueError(f"expected a duration like 3d, got {shape(text)}; {_HINT}")
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError(f"empty duration; {_HINT}")
    if cleaned.isdigit():
        raise ValueError(f"duration {text!r} has no unit; {_HINT}")
    if not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"bad duration {text!r}; {_HINT}")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds > _MAX.total_seconds():
        raise ValueError(f"duration {text!r} is longer than 100 years")
    return timedelta(seconds=seconds)


def shape(value: object) -> str:
    """What a user wrote, named for an error: "a mapping", "a list", "nothing", "'abc'", "3".

    Never a repr of a container: those hold the loader's internal nodes.
    """
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value[:60])
    if isinstance(value, int | float):
        return str(value)
    return f"a {type(value).__name__}"


def format_duration(td: timedelta, parts: int | None = None) -> str:
    """The inverse of parse_duration ("1d12h"); `parts` keeps only the largest units."""
    total = round(td.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total == 0:
        return "0s"
    out: list[str] = []
    for unit, size in _UNITS.items():
        if unit == "w":
            continue  # days read better than weeks for ages ("30d", not "4w2d")
        count, total = divmod(total, size)
        if count:
            out.append(f"{count}{unit}")
    if parts is not None:
        out = out[:parts]
    return sign + "".join(out)
