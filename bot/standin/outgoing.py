"""Messages the bot sends or edits over REST: built from Discord-shaped bodies, their mentions
limited by `allowed_mentions`, and the nonces Discord dedupes for a few minutes
(resources/message.mdx "Create Message", "Edit Message")."""

from __future__ import annotations

import re
import time
from typing import Any

from bot.standin.events import Events
from bot.standin.httpkit import ApiError, form_error
from bot.standin.limits import check_message
from bot.standin.model import Channel, Json, Message
from bot.standin.state import World

NONCE_WINDOW = 5 * 60.0  # Discord dedupes enforce_nonce messages for "a few minutes"
USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EPHEMERAL = 1 << 6
LOADING = 1 << 7


class Nonces:
    """(author, channel, nonce) -> the message it made and when, for `enforce_nonce`."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int, str], tuple[int, float]] = {}

    def earlier(self, key: tuple[int, int, str], world: World) -> int | None:
        found = self.seen.get(key)
        if found is None or time.monotonic() - found[1] >= NONCE_WINDOW:
            return None
        return found[0] if found[0] in world.messages else None

    def remember(self, key: tuple[int, int, str], message_id: int) -> None:
        self.seen[key] = (message_id, time.monotonic())


def resolve_mentions(
    world: World, content: str, allowed: Json | None, reply_author: int | None
) -> tuple[list[int], list[int], bool]:
    """Users, roles and @everyone that the content pings, limited by allowed_mentions."""
    users = [int(u) for u in USER_MENTION.findall(content)]
    roles = [int(r) for r in ROLE_MENTION.findall(content)]
    everyone = "@everyone" in content or "@here" in content
    replied_user = True
    if allowed is not None:
        parse = allowed.get("parse") or []
        allowed_users = {int(u) for u in allowed.get("users") or []}
        allowed_roles = {int(r) for r in allowed.get("roles") or []}
        users = [u for u in users if "users" in parse or u in allowed_users]
        roles = [r for r in roles if "roles" in parse or r in allowed_roles]
        everyone = everyone and "everyone" in parse
        replied_user = bool(allowed.get("replied_user", False))
    if reply_author is not None and replied_user and reply_author not in users:
        users.append(reply_author)
    users = [u for u in dict.fromkeys(users) if u in world.users]
    return users, list(dict.fromkeys(roles)), everyone


def attachments(world: World, base_url: str, body: Json) -> list[Json]:
    out = []
    for item in body.get("_files") or []:
        aid = world.new_id()
        name = item.get("filename") or "file"
        url = f"{base_url}/cdn/attachments/{aid}/{name}"
        out.append(
            {
                "id": str(aid),
                "filename": name,
                "size": item.get("size", 0),
                "url": url,
                "proxy_url": url,
            }
        )
    return out


def build_bot_message(
    world: World, base_url: str, channel: Channel, body: Json, **extra: Any
) -> Message:
    """A message authored by the bot from a Discord-shaped create body (not yet stored)."""
    content = body.get("content") or ""
    files = attachments(world, base_url, body)
    has_payload = content or body.get("embeds") or body.get("components") or files
    if not has_payload and not body.get("sticker_ids") and not extra.get("allow_empty"):
        raise ApiError(400, 50006, "Cannot send an empty message")
    reference_id: int | None = None
    reply_author: int | None = None
    ref = body.get("message_reference")
    if ref and ref.get("message_id"):
        reference_id = int(ref["message_id"])
        target = world.messages.get(reference_id)
        if target is None:
            if ref.get("fail_if_not_exists", True):
                raise form_error(
                    "message_reference", "Unknown message", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"
                )
            reference_id = None
        else:
            reply_author = target.author_id
    allowed = body.get("allowed_mentions")
    users, roles, everyone = resolve_mentions(world, content, allowed, reply_author)
    return Message(
        id=world.new_id(),
        channel_id=channel.id,
        author_id=world.bot_user_id,
        content=content,
        guild_id=channel.guild_id,
        nonce=body.get("nonce"),
        tts=bool(body.get("tts")),
        embeds=list(body.get("embeds") or []),
        components=list(body.get("components") or []),
        attachments=files,
        mentions=users,
        mention_roles=roles,
        mention_everyone=everyone,
        reference_id=reference_id,
        allowed_mentions=allowed,
        flags=int(body.get("flags") or 0),
        webhook_id=extra.get("webhook_id"),
        interaction_id=extra.get("interaction_id"),
        type=int(extra.get("type", 0)),
    )


def apply_edit(world: World, events: Events, msg: Message, body: Json) -> Json:
    """Edit a bot message in place (fields given overwrite) and dispatch MESSAGE_UPDATE."""
    check_message(body)
    if "content" in body:
        msg.content = body["content"] or ""
        msg.mentions, msg.mention_roles, msg.mention_everyone = resolve_mentions(
            world, msg.content, body.get("allowed_mentions", msg.allowed_mentions), None
        )
    if "embeds" in body:
        msg.embeds = list(body["embeds"] or [])
    if "components" in body:
        msg.components = list(body["components"] or [])
    if "flags" in body and body["flags"] is not None:
        msg.flags = int(body["flags"]) | (msg.flags & EPHEMERAL)
    msg.flags &= ~LOADING
    msg.edited_at = world.now()
    data = world.message_json(msg.id)
    if not msg.flags & EPHEMERAL:
        events.message_updated(msg)
    return data
