"""Fixtures shared across the suite: a stand-in Discord that discord.py points at."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.client.target import point_discord_at, reset_discord_target
from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import TOKEN


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    server = StandIn(token=TOKEN)
    await server.start()
    point_discord_at(server.base_url)
    try:
        yield server
    finally:
        await server.stop()
        reset_discord_target()


@pytest.fixture
def world(standin: StandIn) -> SampleWorld:
    return standin.seed_sample()


# Requests that post or edit a message as the bot: channel messages, interaction answers,
# follow-ups and their edits.
_MESSAGE_ROUTE = re.compile(
    r"^(POST|PATCH) /(channels/[^/]+/messages(/[^/]+)?|interactions/.+/callback|webhooks/.+)$"
)
_STANDIN_TESTS = Path(__file__).parent / "standin"  # they post crafted bodies themselves


def pings_someone(body: Any) -> str | None:
    """Why a message body sent by the bot could ping someone, or None if it cannot."""
    if not isinstance(body, dict):
        return None
    data = body.get("data") if "type" in body and "data" in body else body
    if not isinstance(data, dict) or not data.get("content"):
        return None  # no text, no ping
    allowed = data.get("allowed_mentions")
    if allowed is None:
        return "no allowed_mentions (Discord would ping whoever the text names)"
    if allowed.get("parse") or allowed.get("users") or allowed.get("roles"):
        return f"allowed_mentions {allowed} pings"
    if allowed.get("replied_user"):
        return "replied_user pings the author it answers"
    return None


@pytest.fixture(autouse=True)
def every_bot_message_pings_no_one(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Whatever a test does, every message the bot posted or edited through a stand-in
    carried allowed_mentions that ping no one (the stand-in records each request)."""
    started: list[StandIn] = []
    original = StandIn.start

    async def start(self: StandIn, *args: Any, **kwargs: Any) -> str:
        started.append(self)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(StandIn, "start", start)
    yield
    if _STANDIN_TESTS in request.node.path.parents:
        return
    offences = [
        f"{r.method} {r.path}: {why}"
        for standin in started
        for r in standin.recorder.requests()
        if r.status < 300
        and _MESSAGE_ROUTE.match(f"{r.method} {r.path}")
        and (why := pings_someone(r.json)) is not None
    ]
    assert offences == [], "the bot sent messages that could ping someone"
