"""Live policy changes announce themselves: a valid edit (file watch or /policy reload)
DMs the owner what changed; a broken one keeps the old policy and DMs the problems."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.policy import Policy, PolicyError, describe_changes, diff_policies
from bot.policy.editing import ListEdit, add_to_list, remove_from_list
from bot.service.clock import Clock
from bot.service.events import EventBus, OwnerActed
from bot.service.owner import OwnerNotices, policy_broken_text
from bot.service.policy_holder import PolicyHolder
from bot.store import Store

MAX_CHANGE_LINES = 30


def change_summary(before: Policy, after: Policy) -> str:
    lines = describe_changes(diff_policies(before, after))
    if len(lines) > MAX_CHANGE_LINES:
        lines = [*lines[:MAX_CHANGE_LINES], f"... and {len(lines) - MAX_CHANGE_LINES} more"]
    body = "\n".join(f"- {line}" for line in lines) or "- nothing the bot acts on"
    return f"Your policy file changed; version {after.version} is now in force:\n{body}"


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    error: PolicyError | None
    changed: bool
    text: str  # what the owner was (or would be) told


class PolicyAnnouncer:
    def __init__(
        self,
        policies: PolicyHolder,
        owner: OwnerNotices,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        self._policies = policies
        self._owner = owner
        self._store = store
        self._clock = clock
        self._events = events or EventBus()

    async def edit_list(self, actor_id: int, name: str, entry: str, *, add: bool) -> ListEdit:
        """/list add|remove: the file edited in place (comments kept, atomically, refused if
        it changed on disk since it was loaded), in force at once, announced, recorded.
        ListEditError says why nothing was written."""
        edit = add_to_list if add else remove_from_list
        before = self._policies.current
        done = await asyncio.to_thread(edit, self._policies.path, name, entry, before.version)
        if not done.changed:
            return done
        self._policies.reload()  # in force now, not at the file watch's next look
        await self._announce(before)
        action = "list_add" if add else "list_remove"
        detail = f"{name}: {entry}"
        if self._store is not None and self._clock is not None:
            now = self._clock.now()
            await self._store.record_owner_action(
                actor_id, action, now, detail=detail, policy_version=done.version
            )
            self._events.emit(OwnerActed(now, actor_id, action, None, detail))
        return done

    async def reload(self) -> ReloadOutcome:
        """Reload from disk and tell the owner by DM what changed, or what is broken."""
        before = self._policies.current
        error = self._policies.reload()
        if error is not None:
            await self._owner.policy_broken(error)
            return ReloadOutcome(error, False, policy_broken_text(error))
        return await self._announce(before)

    async def announce(self, before: Policy) -> None:
        """Tell the owner what changed since `before` (the file watch calls this)."""
        await self._announce(before)

    async def _announce(self, before: Policy) -> ReloadOutcome:
        after = self._policies.current
        if after.version == before.version:
            return ReloadOutcome(None, False, f"no change: version {after.version} in force")
        text = change_summary(before, after)
        await self._owner.tell(text)
        return ReloadOutcome(None, True, text)
