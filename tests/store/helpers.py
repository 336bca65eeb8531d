"""Shared data for the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.policy.decision import Action, Decision, Miss
from bot.store import UserInfo

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 1000
OTHER_GUILD = 2000


def user(
    user_id: int = 1,
    username: str | None = None,
    *,
    nick: str | None = None,
    global_name: str | None = None,
    bot: bool = False,
    created_at: datetime = T0 - timedelta(days=400),
) -> UserInfo:
    return UserInfo(
        user_id=user_id,
        username=username if username is not None else f"user{user_id}",
        global_name=global_name,
        nick=nick,
        bot=bot,
        spammer=False,
        default_avatar=False,
        created_at=created_at,
    )


def decision(
    action: Action = Action.FOLLOW_BACK,
    rule: str = "friends",
    *,
    due: datetime | None = None,
    reply: str | None = None,
) -> Decision:
    return Decision(
        rule=rule,
        action=action,
        misses=(Miss("bots", "bot: true", "false"),),
        due=due,
        reply=reply,
        policy_version="v1",
    )
