"""Components, modals and interaction callback types, at the HTTP level.

Docs: components/reference.mdx ("Multiple components on the same message must not share the same
custom_id"; "Non-link and non-premium buttons must have a custom_id"; "Link buttons must have a
url, and cannot have a custom_id"), interactions/receiving-and-responding.mdx ("Modal": title
"max 45 characters", "Between 1 and 5 (inclusive) components"; callback types 6 and 7 "Only valid
for component-based interactions"), topics/opcodes-and-status-codes.mdx (50035 Invalid form body).
"""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.standin import Interaction, SampleWorld, StandIn
from tests.standin.helpers import TOKEN


async def _post(
    http: aiohttp.ClientSession, standin: StandIn, path: str, body: Any, auth: bool = True
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {TOKEN}"} if auth else {}
    async with http.post(f"{standin.base_url}/api/v10{path}", json=body, headers=headers) as r:
        return r.status, (await r.json() if r.status != 204 else None)


def _button(custom_id: str | None, style: int = 1, **extra: Any) -> dict[str, Any]:
    button: dict[str, Any] = {"type": 2, "style": style, "label": "ok", **extra}
    if custom_id is not None:
        button["custom_id"] = custom_id
    return button


async def _send(
    http: aiohttp.ClientSession, standin: StandIn, channel_id: int, *buttons: dict[str, Any]
) -> tuple[int, Any]:
    body = {"content": "pick", "components": [{"type": 1, "components": list(buttons)}]}
    return await _post(http, standin, f"/channels/{channel_id}/messages", body)


async def test_duplicate_custom_ids_in_one_message_are_50035(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """components/reference.mdx: "Multiple components on the same message must not share the
    same custom_id"."""
    status, body = await _send(
        http, standin, world.general_channel_id, _button("same"), _button("same")
    )
    assert (status, body["code"]) == (400, 50035)
    assert "custom_id" in str(body["errors"])
    status, _ = await _send(http, standin, world.general_channel_id, _button("a"), _button("b"))
    assert status == 200


async def test_buttons_need_a_custom_id_unless_they_are_links(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """components/reference.mdx "Button": non-link buttons "must have a custom_id"; link buttons
    "must have a url, and cannot have a custom_id"."""
    channel = world.general_channel_id
    assert (await _send(http, standin, channel, _button(None)))[1]["code"] == 50035
    link = _button(None, style=5, url="https://example.com")
    assert (await _send(http, standin, channel, link))[0] == 200
    bad_link = _button("x", style=5, url="https://example.com")
    assert (await _send(http, standin, channel, bad_link))[1]["code"] == 50035


async def _slash(standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession) -> Interaction:
    command = {"name": "ping", "description": "Ping", "type": 1}
    path = f"/applications/{standin.app_id}/commands"
    async with http.put(
        f"{standin.base_url}/api/v10{path}",
        json=[command],
        headers={"Authorization": f"Bot {TOKEN}"},
    ) as r:
        assert r.status == 200
    return await standin.slash(world.guild_id, world.general_channel_id, world.owner_id, "ping")


def _callback(ix: Interaction) -> str:
    return f"/interactions/{ix.id}/{ix.token}/callback"


async def test_update_callbacks_are_refused_for_a_slash_command(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """interactions/receiving-and-responding.mdx: DEFERRED_UPDATE_MESSAGE (6) and UPDATE_MESSAGE
    (7) are "Only valid for component-based interactions"."""
    ix = await _slash(standin, world, http)
    for kind in (6, 7):
        status, body = await _post(http, standin, _callback(ix), {"type": kind}, auth=False)
        assert (status, body["code"]) == (400, 50035)
    assert not ix.responded
    status, _ = await _post(
        http, standin, _callback(ix), {"type": 4, "data": {"content": "pong"}}, auth=False
    )
    assert status == 204 and ix.response_type == 4


async def test_a_component_click_may_be_answered_with_an_update(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """interactions/receiving-and-responding.mdx: type 6 acknowledges a component interaction."""
    _, message = await _send(http, standin, world.general_channel_id, _button("go"))
    ix = await standin.click(world.general_channel_id, int(message["id"]), "go", world.owner_id)
    status, _ = await _post(http, standin, _callback(ix), {"type": 6}, auth=False)
    assert status == 204 and ix.response_type == 6


async def test_modals_are_validated(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """interactions/receiving-and-responding.mdx "Modal": custom_id (max 100), title "max 45
    characters", "Between 1 and 5 (inclusive) components"."""
    row = {"type": 1, "components": [{"type": 4, "custom_id": "t", "style": 1, "label": "T"}]}

    def modal(title: str = "Why?", rows: int = 1, custom_id: str = "m") -> dict[str, Any]:
        rows_json = [
            {"type": 1, "components": [dict(row["components"][0], custom_id=f"t{i}")]}  # type: ignore[index]
            for i in range(rows)
        ]
        return {
            "type": 9,
            "data": {"custom_id": custom_id, "title": title, "components": rows_json},
        }

    ix = await _slash(standin, world, http)
    for bad in (modal(title="x" * 46), modal(rows=0), modal(rows=6), modal(custom_id="c" * 101)):
        status, body = await _post(http, standin, _callback(ix), bad, auth=False)
        assert (status, body["code"]) == (400, 50035), bad
    status, _ = await _post(http, standin, _callback(ix), modal(title="x" * 45, rows=5), auth=False)
    assert status == 204 and ix.response_type == 9
