"""Point discord.py at a Discord-compatible base URL (the local stand-in) and back."""

from __future__ import annotations

import discord.asset
import discord.gateway
import discord.http
import yarl

_REAL_API = discord.http.Route.BASE
_REAL_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
_REAL_CDN = discord.asset.Asset.BASE


def point_discord_at(base_url: str) -> None:
    """Make every discord.py client in this process talk to `base_url` (e.g. http://127.0.0.1:P).

    These are class attributes read at request/connect time, so set them before `start()`.
    """
    base = base_url.rstrip("/")
    url = yarl.URL(base)
    ws_scheme = "wss" if url.scheme == "https" else "ws"
    discord.http.Route.BASE = base + "/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = url.with_scheme(ws_scheme).with_path(
        "/gateway"
    )
    discord.asset.Asset.BASE = base + "/cdn"


def reset_discord_target() -> None:
    """Restore discord.py's real Discord URLs."""
    discord.http.Route.BASE = _REAL_API
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = _REAL_GATEWAY
    discord.asset.Asset.BASE = _REAL_CDN
