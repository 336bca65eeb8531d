"""The owner's decisions on members: reviews approved or declined (by button or command),
/follow and /unfollow by hand, /explain (the policy's decision now, in the CLI's words,
and the stored history with who decided). Nothing here talks to Discord: role changes
become outbox rows, in the same transaction as the verdict."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

from bot.policy import decide
from bot.policy.explaining import member_explanation
from bot.service.clock import Clock
from bot.service.events import EventBus, OwnerActed
from bot.service.planning import Directory
from bot.service.policy_holder import PolicyHolder
from bot.store import (
    ActionSpec,
    DecisionRow,
    MemberRow,
    OutboxKind,
    OwnerActionRow,
    OwnerDecision,
    PendingReviewRow,
    ReviewOutcome,
    Store,
    VerdictRow,
    facts_from_row,
)

Verdict = Literal["approve", "decline"]
PAGE_SIZE = 4  # reviews per /pending page: a row of 2 buttons each, a row for paging


class OwnerInputError(Exception):
    """Bad input from the owner (unknown member, ...): said back to them, nothing done."""


VERDICT_WORDS = {
    "approve": "approved",
    "decline": "declined",
    "follow": "followed by hand",
    "unfollow": "unfollowed by hand",
}


def decided_words(verdict: VerdictRow) -> str:
    """'approved by <@1> at 2026-12-01 15:30 UTC (button)' (a mention shown, never pinged)."""
    when = verdict.decided_at.strftime("%Y-%m-%d %H:%M UTC")
    what = VERDICT_WORDS.get(verdict.verdict, verdict.verdict)
    return f"{what} by <@{verdict.decided_by}> at {when} ({verdict.via})"


@dataclass(frozen=True, slots=True)
class History:
    decisions: list[DecisionRow]
    owner_actions: list[OwnerActionRow]


@dataclass(frozen=True, slots=True)
class ReviewLine:
    decision_id: int
    member: str
    rule: str
    pending: bool
    verdict: VerdictRow | None

    def words(self) -> str:
        if self.pending:
            return f"**{self.member}**: held by rule `{self.rule}`"
        if self.verdict is not None:
            return f"~~{self.member}~~: {decided_words(self.verdict)}"
        return f"~~{self.member}~~: no longer pending (decided again, or left)"


def member_name(row: MemberRow) -> str:
    shown = row.display_name
    return row.username if shown == row.username else f"{shown} ({row.username})"


class ReviewService:
    def __init__(
        self,
        store: Store,
        policies: PolicyHolder,
        clock: Clock,
        directory: Directory,
        *,
        wake_outbox: Callable[[], None] = lambda: None,
        events: EventBus | None = None,
    ) -> None:
        self._store = store
        self._policies = policies
        self._clock = clock
        self._directory = directory
        self._wake = wake_outbox
        self._events = events or EventBus()

    # --- reviews ---------------------------------------------------------------------

    async def pending(
        self, guild_ids: Collection[int] | None, page: int = 0, size: int = PAGE_SIZE
    ) -> tuple[list[PendingReviewRow], int]:
        return await self._store.pending_reviews(guild_ids, limit=size, offset=page * size)

    async def decide(
        self, decision_id: int, verdict: Verdict, actor_id: int, via: str = "button"
    ) -> ReviewOutcome:
        """Approve or decline, once: a second decider gets who decided and when."""
        held = await self._store.review_pending(decision_id)
        actions: list[ActionSpec] = []
        if held and verdict == "approve":
            guild_id, _ = await self._review_member(decision_id)
            actions = [self._add_role(guild_id, f"approved by {actor_id}")]
        outcome = await self._store.decide_review(
            decision_id, self._owner(verdict, actor_id, via, actions), self._clock.now()
        )
        if outcome.decided and actions:
            self._wake()
        if outcome.decided and outcome.verdict is not None:
            await self._tell(actor_id, verdict, outcome.verdict.guild_id, outcome.verdict.user_id)
        return outcome

    async def _tell(self, actor_id: int, action: str, guild_id: int, user_id: int) -> None:
        if not self._events.listening:
            return
        row = await self._store.get_member(guild_id, user_id)
        name = member_name(row) if row is not None else str(user_id)
        self._events.emit(OwnerActed(self._clock.now(), actor_id, action, name))

    async def _review_member(self, decision_id: int) -> tuple[int, int]:
        member = await self._store.decision_member(decision_id)
        if member is None:
            raise OwnerInputError("no such review")
        return member

    async def describe(self, decision_ids: list[int]) -> list[ReviewLine]:
        """What a review message shows now, for each review on it (refreshing it)."""
        out = []
        for decision_id in decision_ids:
            member = await self._store.decision_member(decision_id)
            if member is None:
                continue
            row = await self._store.get_member(*member)
            name = member_name(row) if row is not None else f"<@{member[1]}>"
            rule = next(
                (d.rule for d in await self._store.decisions_for(*member) if d.id == decision_id),
                "?",
            )
            out.append(
                ReviewLine(
                    decision_id,
                    name,
                    rule,
                    await self._store.review_pending(decision_id),
                    await self._store.review_verdict(decision_id),
                )
            )
        return out

    # --- by hand ---------------------------------------------------------------------

    async def follow(self, guild_id: int, user_id: int, actor_id: int) -> int:
        member = await self._member(guild_id, user_id)
        action = self._add_role(guild_id, f"followed by hand by {actor_id}")
        owner = self._owner("follow", actor_id, "command", [action])
        decision_id = await self._store.decide_by_hand(
            guild_id, member.user_id, owner, self._clock.now()
        )
        self._wake()
        await self._tell(actor_id, "follow", guild_id, user_id)
        return decision_id

    async def unfollow(self, guild_id: int, user_id: int, actor_id: int) -> int:
        member = await self._member(guild_id, user_id)
        role = self._role(guild_id)
        action = ActionSpec(
            OutboxKind.REMOVE_ROLE, {"role_id": role, "reason": f"unfollowed by {actor_id}"}
        )
        owner = self._owner("unfollow", actor_id, "command", [action])
        decision_id = await self._store.decide_by_hand(
            guild_id, member.user_id, owner, self._clock.now()
        )
        self._wake()
        await self._tell(actor_id, "unfollow", guild_id, user_id)
        return decision_id

    # --- explain ---------------------------------------------------------------------

    async def explain(self, guild_id: int, user_id: int) -> tuple[list[str], History]:
        """The decision the policy gives now (without acting) and the stored history."""
        member = await self._member(guild_id, user_id)
        policy = self._policies.current
        now = self._clock.now()
        roles = self._directory.member_roles(guild_id, user_id) if policy.uses_roles else None
        window = policy.surge_window  # as the pipeline decides: joins counted for surges
        recent = (
            tuple(await self._store.recent_join_times(guild_id, now - window, now))
            if window is not None
            else ()
        )
        facts = facts_from_row(
            member, observed=False, roles=roles or frozenset(), recent_joins=recent
        )
        lines = member_explanation(policy, facts, decide(policy, facts, now), now)
        history = History(
            await self._store.decisions_for(guild_id, user_id),
            await self._store.owner_actions_for(guild_id, user_id),
        )
        return lines, history

    # --- helpers ---------------------------------------------------------------------

    async def _member(self, guild_id: int, user_id: int) -> MemberRow:
        member = await self._store.get_member(guild_id, user_id)
        if member is None:
            raise OwnerInputError(
                f"<@{user_id}> is not a member the bot knows in this server "
                "(it knows members who joined a watched server)"
            )
        return member

    def _role(self, guild_id: int) -> int:
        name = self._policies.current.follow_back_role
        role = self._directory.role_id(guild_id, name)
        if role is None:
            raise OwnerInputError(f"the follow-back role {name!r} is not in this server")
        return role

    def _add_role(self, guild_id: int, reason: str) -> ActionSpec:
        return ActionSpec(OutboxKind.ADD_ROLE, {"role_id": self._role(guild_id), "reason": reason})

    def _owner(
        self, verdict: str, actor_id: int, via: str, actions: list[ActionSpec]
    ) -> OwnerDecision:
        return OwnerDecision(verdict, actor_id, via, actions, self._policies.current.version)
