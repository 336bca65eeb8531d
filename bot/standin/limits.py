"""Discord's documented size limits on messages, embeds and components (commands:
`command_limits.py`).

The stand-in enforces them (400, code 50035 "Invalid Form Body") so that a bot which would be
refused by Discord is refused here too; discord.py itself checks few of them.
"""

from __future__ import annotations

from typing import Any

from bot.standin.components import check_components
from bot.standin.httpkit import invalid, text_len

Json = dict[str, Any]

EMBED_FIELD_LIMITS = {"title": 256, "description": 4096}


def check_embeds(embeds: list[Json]) -> None:
    if len(embeds) > 10:
        raise invalid("embeds", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        for key, limit in EMBED_FIELD_LIMITS.items():
            if text_len(embed.get(key)) > limit:
                raise invalid(f"embeds.{i}.{key}", f"Must be {limit} or fewer in length.")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise invalid(f"embeds.{i}.fields", "Must be 25 or fewer in length.")
        for j, field in enumerate(fields):
            if text_len(field.get("name")) > 256:
                raise invalid(f"embeds.{i}.fields.{j}.name", "Must be 256 or fewer in length.")
            if text_len(field.get("value")) > 1024:
                raise invalid(f"embeds.{i}.fields.{j}.value", "Must be 1024 or fewer in length.")
        footer = embed.get("footer") or {}
        author = embed.get("author") or {}
        if text_len(footer.get("text")) > 2048:
            raise invalid(f"embeds.{i}.footer.text", "Must be 2048 or fewer in length.")
        if text_len(author.get("name")) > 256:
            raise invalid(f"embeds.{i}.author.name", "Must be 256 or fewer in length.")
        total += sum(text_len(embed.get(k)) for k in EMBED_FIELD_LIMITS)
        total += sum(text_len(f.get("name")) + text_len(f.get("value")) for f in fields)
        total += text_len(footer.get("text")) + text_len(author.get("name"))
    if total > 6000:
        raise invalid("embeds", "Embed size exceeds maximum size of 6000")


def check_message(body: Json) -> None:
    content = body.get("content") or ""
    if not isinstance(content, str):
        raise invalid("content", "Must be a string.", "BASE_TYPE_BAD")
    if len(content) > 2000:
        raise invalid("content", "Must be 2000 or fewer in length.")
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        raise invalid("nonce", "Must be 25 or fewer in length.")
    check_embeds(list(body.get("embeds") or []))
    check_components(list(body.get("components") or []), int(body.get("flags") or 0))
