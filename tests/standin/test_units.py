"""Unit and property tests for the stand-in's building blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.standin.faults import Faults
from bot.standin.ratelimits import RateLimits
from bot.standin.recorder import normalize_route
from bot.standin.snowflake import Snowflakes, snowflake_time

# hypothesis wants naive bounds and adds the timezone itself
moments = st.datetimes(
    min_value=datetime(2015, 1, 2),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(moments)
def test_snowflake_encodes_created_at_to_the_millisecond(moment: datetime) -> None:
    flake = Snowflakes().next(moment)
    assert abs(snowflake_time(flake) - moment) < timedelta(milliseconds=1)


@given(st.lists(moments, min_size=1, max_size=50))
def test_snowflakes_are_unique(when: list[datetime]) -> None:
    gen = Snowflakes()
    flakes = [gen.next(w) for w in when + when]
    assert len(set(flakes)) == len(flakes)


def test_naive_datetimes_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="naive"):
        Snowflakes().next(datetime(2020, 1, 1))  # noqa: DTZ001 - the point of the test


def test_route_names_do_not_matter() -> None:
    a = normalize_route("put /guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    assert a == normalize_route("PUT /guilds/{g}/members/{u}/roles/{r}")
    assert a != normalize_route("DELETE /guilds/{g}/members/{u}/roles/{r}")


def test_faults_are_consumed_in_order() -> None:
    faults = Faults()
    faults.fail("GET /users/@me", 500, count=2)
    faults.fail("*", 403, code=50013)
    first, second = faults.take_fault("GET /users/@me"), faults.take_fault("GET /users/@me")
    assert first is not None and second is not None and first.status == second.status == 500
    third = faults.take_fault("GET /users/@me")
    assert third is not None and third.status == 403 and third.body["code"] == 50013
    assert faults.take_fault("GET /users/@me") is None


def test_rate_limit_headers_count_down_per_major_parameter() -> None:
    limits = RateLimits()
    limits.set("PUT /guilds/{g}/members/{u}/roles/{r}", 2, 10.0)
    route = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
    _, h1 = limits.check(route, "guild_id=1")
    _, h2 = limits.check(route, "guild_id=1")
    over, _ = limits.check(route, "guild_id=1")
    other, h3 = limits.check(route, "guild_id=2")
    assert (h1["X-RateLimit-Remaining"], h2["X-RateLimit-Remaining"]) == ("1", "0")
    assert over is not None and over.status == 429 and over.headers["Via"] == "1.1 google"
    assert other is None and h3["X-RateLimit-Remaining"] == "1"
    assert h1["X-RateLimit-Bucket"] == h3["X-RateLimit-Bucket"]
    assert limits.check("GET /users/@me", "")[0] is None  # other routes are not limited


def test_routes_can_share_a_bucket() -> None:
    limits = RateLimits()
    put = "PUT /guilds/{g}/members/{u}/roles/{r}"
    delete = "DELETE /guilds/{g}/members/{u}/roles/{r}"
    limits.set(put, 2, 10.0, bucket="roles")
    limits.set(delete, 2, 10.0, bucket="roles")
    _, first = limits.check(put, "guild_id=1")
    _, second = limits.check(delete, "guild_id=1")
    over, _ = limits.check(put, "guild_id=1")
    assert first["X-RateLimit-Bucket"] == second["X-RateLimit-Bucket"]
    assert second["X-RateLimit-Remaining"] == "0" and over is not None
