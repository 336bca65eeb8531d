"""`/followback status` for members: where they stand (followed, coming around a date,
under review, or nothing), in the words the policy's `status_command:` chooses. The
user-initiated alternative to unsolicited DMs; off unless the policy enables it."""

from __future__ import annotations

from bot.policy import Action
from bot.service.planning import human_due
from bot.service.policy_holder import PolicyHolder
from bot.store import Store


class MemberStatus:
    def __init__(self, store: Store, policies: PolicyHolder) -> None:
        self._store = store
        self._policies = policies

    @property
    def enabled(self) -> bool:
        return self._policies.current.status_command.enabled

    async def words_for(self, guild_id: int, user_id: int, name: str) -> str | None:
        """The answer for this member; None when the policy does not offer the command."""
        policy = self._policies.current
        texts = policy.status_command
        if not texts.enabled:
            return None
        member = await self._store.get_member(guild_id, user_id)
        if member is None or not member.present:
            return texts.nothing.format(name=name, due="")
        if member.followed:
            return texts.followed.format(name=name, due="")
        latest = await self._store.latest_decision(guild_id, user_id)
        if latest is not None and latest.action is Action.LATER:
            waiting = [
                t
                for t in await self._store.timers_for(guild_id, user_id)
                if t.kind == "later" and t.status == "scheduled"
            ]
            if waiting:
                due = human_due(min(t.due for t in waiting), policy.owner.timezone)
                return texts.later.format(name=name, due=due)
        if latest is not None and (
            latest.action is Action.OBSERVE
            or (latest.action is Action.REVIEW and await self._store.review_pending(latest.id))
        ):
            return texts.review.format(name=name, due="")
        return texts.nothing.format(name=name, due="")
