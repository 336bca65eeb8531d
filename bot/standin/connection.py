"""One gateway WebSocket (queued writes, optional zlib/zstd stream) and one gateway session."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

try:  # zstd-stream only if the server side can compress it; else fall back to no compression
    import zstandard as _zstd  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    _zstd = None

log = logging.getLogger(__name__)

ZSTD_AVAILABLE = _zstd is not None
REPLAY_LIMIT = 200_000
RESUME_WINDOW = 180.0  # seconds a disconnected session can still be resumed


class Connection:
    """One WebSocket; writes are queued and flushed by one task so dispatching never awaits."""

    def __init__(self, ws: web.WebSocketResponse, compression: str | None) -> None:
        self.ws = ws
        self.compression = compression if compression in ("zlib-stream", "zstd-stream") else None
        self._zlib = zlib.compressobj() if compression == "zlib-stream" else None
        self._zstd = (
            _zstd.ZstdCompressor().compressobj() if compression == "zstd-stream" and _zstd else None
        )
        self._pending: list[str] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set when everything pushed has been written
        self._idle.set()
        self._closing = False
        self.task = asyncio.create_task(self._writer())

    def push(self, text: str) -> None:
        if not self._closing:
            self._pending.append(text)
            self._idle.clear()
            self._wake.set()

    async def flush(self) -> None:
        if not self._closing and not self.ws.closed:
            await self._idle.wait()

    async def _writer(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch, self._pending = self._pending, []
                for text in batch:
                    await self._send(text)
                    if self.ws.closed:
                        return
                if not self._pending:
                    self._idle.set()
        except (ConnectionError, RuntimeError) as exc:  # peer went away mid-write
            log.debug("gateway writer stopped: %s", exc)
        finally:
            self._idle.set()

    async def _send(self, text: str) -> None:
        if self._zlib is not None:
            data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)
        elif self._zstd is not None:
            data = self._zstd.compress(text.encode()) + self._zstd.flush(
                _zstd.COMPRESSOBJ_FLUSH_BLOCK
            )
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(text)

    async def close(self, code: int, message: str = "") -> None:
        # a client that stopped reading must not keep the stand-in from closing
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), 2.0)
        self._closing = True
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.ws.close(code=code, message=message.encode())


@dataclass
class Session:
    id: str
    intents: int
    shard: list[int] | None
    large_threshold: int = 50  # IDENTIFY's, between 50 and 250
    seq: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=REPLAY_LIMIT))
    conn: Connection | None = None
    disconnected_at: float | None = None

    def expired(self) -> bool:
        gone = self.disconnected_at
        return gone is not None and time.monotonic() - gone > RESUME_WINDOW

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def send_dispatch(self, event: str, data_text: str) -> None:
        self.seq += 1
        text = f'{{"op":0,"t":"{event}","s":{self.seq},"d":{data_text}}}'
        self.buffer.append((self.seq, text))
        if self.conn is not None:
            self.conn.push(text)


def op_frame(op: int, d: Any) -> str:
    return json.dumps({"op": op, "d": d, "s": None, "t": None}, separators=(",", ":"))
