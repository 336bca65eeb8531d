"""Messages to the owner: one service, one outbox kind (OWNER_DM), outside the follower
DM limits. A broken policy edit today; the daily digest next."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.policy import PolicyError
from bot.service.clock import Clock
from bot.store import ActionSpec, OutboxKind, Store

log = logging.getLogger(__name__)

NO_GUILD = 0  # outbox rows name a guild; a message to the owner belongs to none
MAX_PROBLEMS = 1500  # characters of the loader's report quoted (a DM holds 2,000)


def policy_broken_text(error: PolicyError) -> str:
    problems = str(error)
    if len(problems) > MAX_PROBLEMS:
        problems = problems[:MAX_PROBLEMS] + "\n..."
    return (
        "Your policy file has problems, so the previous policy stays in force:\n"
        f"```\n{problems}\n```"
    )


class OwnerNotices:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        owner_id: int | None,
        *,
        wake_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._owner_id = owner_id
        self._wake_outbox = wake_outbox

    async def tell(self, text: str) -> bool:
        """Queue a DM to the owner (sent once, through the outbox); False with no owner."""
        if self._owner_id is None:
            log.warning("no owner to tell (set FOLLOWBACK_OWNER_ID): %s", text.splitlines()[0])
            return False
        action = ActionSpec(OutboxKind.OWNER_DM, {"text": text})
        await self._store.enqueue_actions(NO_GUILD, self._owner_id, [action], self._clock.now())
        self._wake_outbox()
        return True

    async def policy_broken(self, error: PolicyError) -> None:
        """A broken edit: the owner hears of it by DM; the previous policy stays."""
        await self.tell(policy_broken_text(error))
