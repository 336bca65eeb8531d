"""A raw gateway client (no discord.py) for wire-level tests."""

from __future__ import annotations

import json
import zlib
from typing import Any

import aiohttp

from bot.standin import StandIn


class Wire:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, zlib_stream: bool) -> None:
        self.ws = ws
        self.inflate = zlib.decompressobj() if zlib_stream else None

    async def recv(self) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=5)
        if msg.type is aiohttp.WSMsgType.BINARY:
            assert self.inflate is not None and msg.data.endswith(b"\x00\x00\xff\xff")
            return json.loads(self.inflate.decompress(msg.data))  # type: ignore[no-any-return]
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        return json.loads(msg.data)  # type: ignore[no-any-return]

    async def send(self, op: int, d: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": d}))

    async def identify(self, token: str = "standin-test-token", intents: int = 1 | 2 | 512) -> None:
        await self.send(2, {"token": token, "intents": intents, "properties": {}})


async def open_wire(http: aiohttp.ClientSession, standin: StandIn, compress: str | None) -> Wire:
    query = "?v=10&encoding=json" + (f"&compress={compress}" if compress else "")
    ws = await http.ws_connect(standin.ws_url + query)
    wire = Wire(ws, compress == "zlib-stream")
    hello = await wire.recv()
    assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
    return wire
