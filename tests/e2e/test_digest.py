"""The digest end to end: real discord.py against the stand-in, 500 pending reviews, the
owner's DMs, page and review buttons clicked after a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.client.tree import FAILED
from bot.service.digest_pages import parse_page_custom_id, parse_review_custom_id
from bot.service.events import DigestSent
from bot.settings import Settings
from tests.e2e.conftest import POLICY, Harness, eventually

REVIEWS = 500


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [b["custom_id"] for row in message.get("components") or [] for b in row["components"]]


async def test_a_500_review_digest_pages_in_dms_and_its_buttons_work_after_a_restart(
    harness: Harness,
) -> None:
    await harness.start()
    owner = harness.world.owner_id
    for i in range(REVIEWS):
        await harness.join(f"review_{i:03d}")

    async def all_held() -> bool:
        return len(await harness.store.digest_reviews()) == REVIEWS

    await eventually(all_held, timeout=60)

    ix = await harness.standin.slash(
        harness.guild_id, harness.world.general_channel_id, owner, "digest now"
    )
    answer = await ix.wait_response(timeout=10)
    assert answer["type"] == 5  # deferred, ephemeral
    (said,) = await ix.wait_followups(1)
    assert "your DMs" in said["content"] and "pages" in said["content"]

    def digest_dms() -> list[dict[str, Any]]:
        return [m for m in harness.standin.dms_to(owner) if m.get("embeds")]

    await eventually(lambda: len(digest_dms()) == 1)
    (message,) = digest_dms()
    ids = custom_ids(message)
    assert len(message["components"]) <= 5 and len(message["embeds"]) <= 10
    nav = [parsed for c in ids if (parsed := parse_page_custom_id(c))]
    snapshot = nav[0][0]
    assert (snapshot, 1) in nav  # "next" shows page 2
    first_page = [parse_review_custom_id(c) for c in ids if c.startswith("review:")]
    assert len(first_page) == 20  # 10 reviews, Approve and Decline each

    await harness.stop()
    await harness.start()

    turn = await harness.standin.click(
        int(message["channel_id"]), int(message["id"]), f"digest:{snapshot}:1", owner
    )
    shown = await turn.wait_response(timeout=10)
    assert shown["type"] == 7  # the message itself now shows page 2
    titles = [e["title"] for e in shown["data"]["embeds"]]
    assert any(f"Pending reviews (11–20 of {REVIEWS})" in t for t in titles), titles
    page_two = custom_ids(shown["data"])
    assert f"digest:{snapshot}:0" in page_two and f"digest:{snapshot}:2" in page_two

    # A review button on the page just shown, also after the restart: it acts.
    approve = next(c for c in page_two if c.endswith(":approve"))
    parsed = parse_review_custom_id(approve)
    assert parsed is not None
    member = await harness.store.decision_member(parsed[0])
    assert member is not None
    click = await harness.standin.click(
        int(message["channel_id"]), int(message["id"]), approve, owner
    )
    await click.wait_response(timeout=10)
    await eventually(lambda: harness.has_role(member[1]))


async def test_only_the_owner_can_ask_for_a_digest(harness: Harness) -> None:
    await harness.start()
    outsider = harness.world.member_ids[0]
    ix = await harness.standin.slash(
        harness.guild_id, harness.world.general_channel_id, outsider, "digest now"
    )
    answer = await ix.wait_response(timeout=10)
    text = answer["data"]["content"] if answer["type"] == 4 else ""
    assert "Only the bot's owner" in text
    assert await harness.store.digest_snapshot(1) is None  # nothing was built


async def held(harness: Harness, count: int) -> None:
    for i in range(count):
        await harness.join(f"review_{i:03d}")

    async def all_held() -> bool:
        return len(await harness.store.digest_reviews()) == count

    await eventually(all_held, timeout=20)


async def test_a_digest_due_while_the_bot_was_down_arrives_once_at_start(
    harness: Harness,
) -> None:
    owner = harness.world.owner_id
    await harness.start()  # the first start: today's digest time counts as done
    await held(harness, 1)
    await harness.stop()
    harness.clock.advance(timedelta(days=1))  # down across the next 09:00 (UTC policy)
    await harness.start()

    def digests() -> list[dict[str, Any]]:
        return [m for m in harness.standin.dms_to(owner) if m.get("embeds")]

    await eventually(lambda: len(digests()) == 1)
    await harness.stop()
    await harness.start()  # started again: the day's digest is not sent twice
    await asyncio.sleep(0.5)
    assert len(digests()) == 1
    sent = [e for e in harness.events if isinstance(e, DigestSent)]
    assert [e.reason for e in sent] == ["missed"]


async def test_in_the_digest_channel_only_the_owner_turns_pages(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = harness.world.general_channel_id
    plain = harness.settings

    def settings(policy: Path = POLICY) -> Settings:
        return plain(policy).model_copy(update={"digest_channel_id": channel})

    monkeypatch.setattr(harness, "settings", settings)
    await harness.start()
    owner, outsider = harness.world.owner_id, harness.world.member_ids[0]
    await held(harness, 11)  # two pages
    ix = await harness.standin.slash(harness.guild_id, channel, owner, "digest now")
    (said,) = await ix.wait_followups(1, timeout=10)
    assert "digest channel" in said["content"]

    def posted() -> list[dict[str, Any]]:
        return [m for m in harness.standin.messages(channel) if m.get("embeds")]

    await eventually(lambda: len(posted()) == 1)
    (message,) = posted()
    assert not harness.standin.dms_to(owner)
    turn = next(c for c in custom_ids(message) if c.startswith("digest:") and c.endswith(":1"))
    refused = await harness.standin.click(channel, int(message["id"]), turn, outsider)
    answer = await refused.wait_response(timeout=10)
    assert answer["type"] == 4 and answer["data"]["flags"] & 64  # ephemeral, to them only
    assert "Only the owner" in answer["data"]["content"]
    shown = await harness.standin.click(channel, int(message["id"]), turn, owner)
    assert (await shown.wait_response(timeout=10))["type"] == 7


async def test_a_page_button_that_fails_is_answered_not_left_as_interaction_failed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discord.py only logs a DynamicItem's error; the owner must get a short answer."""
    running = await harness.start()
    owner = harness.world.owner_id
    await held(harness, 11)  # two pages
    ix = await harness.standin.slash(
        harness.guild_id, harness.world.general_channel_id, owner, "digest now"
    )
    await ix.wait_followups(1, timeout=10)
    await eventually(lambda: any(m.get("embeds") for m in harness.standin.dms_to(owner)))
    message = next(m for m in harness.standin.dms_to(owner) if m.get("embeds"))
    turn = next(c for c in custom_ids(message) if c.startswith("digest:") and c.endswith(":1"))

    async def broken(*args: object) -> object:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(running.bot.services.digest, "page", broken)
    click = await harness.standin.click(int(message["channel_id"]), int(message["id"]), turn, owner)
    answer = await click.wait_response(timeout=10)
    assert answer["type"] == 4 and answer["data"]["flags"] & 64
    assert answer["data"]["content"] == FAILED
