"""The sample guild used by `followback standin`, the demo and tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.standin.snowflake import now

if TYPE_CHECKING:
    from bot.standin.server import StandIn


@dataclass
class SampleWorld:
    guild_id: int
    owner_id: int
    follow_back_role_id: int
    everyone_role_id: int
    general_channel_id: int
    digest_channel_id: int
    member_ids: list[int] = field(default_factory=list)
    bot_role_id: int = 0
    bot_user_id: int = 0


def seed_sample(standin: StandIn) -> SampleWorld:
    """A guild owned by the app owner: roles @everyone, Mutuals (below the bot's role), Regulars;
    channels #general and #digest; three members who joined before the bot started."""
    owner_id = standin.app_owner_id
    guild_id = standin.add_guild("Followback Test Server", owner_id)
    mutuals = standin.add_role(guild_id, "Mutuals")
    standin.add_role(guild_id, "Regulars")
    general = standin.add_text_channel(guild_id, "general")
    digest = standin.add_text_channel(guild_id, "followback-digest")
    long_ago = now() - timedelta(days=900)
    members: list[int] = []
    for name, global_name, age in (
        ("ada_l", "Ada", 900),
        ("grace_h", "Grace", 400),
        ("linus_t", None, 30),
    ):
        uid = standin.add_user(
            name,
            global_name=global_name,
            created_at=now() - timedelta(days=age),
            avatar=hashlib.md5(name.encode()).hexdigest(),
        )
        standin.add_member(guild_id, uid, joined_at=long_ago + timedelta(days=len(members)))
        members.append(uid)
    return SampleWorld(
        guild_id=guild_id,
        owner_id=owner_id,
        follow_back_role_id=mutuals,
        everyone_role_id=guild_id,
        general_channel_id=general,
        digest_channel_id=digest,
        member_ids=members,
        bot_role_id=standin.bot_role_id(guild_id),
        bot_user_id=standin.bot_user_id,
    )
