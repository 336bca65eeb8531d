"""Message content without the MESSAGE_CONTENT intent (events/gateway.mdx "Message Content
Intent"): content, embeds, attachments, components and poll are empty, except in DMs, in the
app's own messages and in messages that mention it. The same holds for REST reads and for the
`referenced_message` nested in a reply."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
HIDDEN = {"content": "", "embeds": [], "attachments": [], "components": []}


def without_content(data: Json, bot_id: int) -> Json:
    """A copy of a message's JSON as an app without MESSAGE_CONTENT sees it."""
    visible = (
        "guild_id" not in data
        or data["author"]["id"] == str(bot_id)
        or any(m["id"] == str(bot_id) for m in data.get("mentions") or [])
    )
    out = dict(data) if visible else dict(data, **HIDDEN)
    if not visible:
        out.pop("poll", None)
    referenced = data.get("referenced_message")
    if isinstance(referenced, dict):
        out["referenced_message"] = without_content(referenced, bot_id)
    return out
