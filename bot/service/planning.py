"""From a stored member to a decision and what it causes (roles, DMs, timers).

The engine decides; this module turns its Decision into outbox actions and timers,
honouring what the owner did by hand and the DM opt-in of each reply template.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.policy import Action, Decision, Policy, decide, render_reply
from bot.service.events import DecisionMade, EventBus, TimerOutcome, member_label
from bot.service.policy_holder import PolicyHolder
from bot.store import ActionSpec, DecisionInput, MemberRow, Store, TimerSpec, facts_from_row

log = logging.getLogger(__name__)


class Directory(Protocol):
    """What the pipeline needs to know about a guild, answered by the Discord layer."""

    def guild_known(self, guild_id: int) -> bool:
        """False only while the client is still learning its guilds (start-up)."""
        ...

    def role_id(self, guild_id: int, name_or_id: str) -> int | None: ...

    def member_roles(self, guild_id: int, user_id: int) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class Hooks:
    """Where the pipeline says what it queued, so the workers wake at once."""

    wake_outbox: Callable[[], None] = lambda: None
    schedule_timer: Callable[[datetime], None] = lambda due: None


@dataclass(frozen=True, slots=True)
class Plan:
    """Decisions to store, and their events (empty when nobody listens)."""

    items: list[DecisionInput]
    events: list[DecisionMade]


def human_due(due: datetime, timezone: str) -> str:
    return due.astimezone(ZoneInfo(timezone)).strftime("%a %d %b, %H:%M")


class Planner:
    def __init__(
        self,
        store: Store,
        policies: PolicyHolder,
        directory: Directory,
        bot_user_id: int,
        events: EventBus | None = None,
    ) -> None:
        self._store = store
        self._policies = policies
        self._directory = directory
        self._bot_user_id = bot_user_id
        self._events = events or EventBus()

    @property
    def policy(self) -> Policy:
        return self._policies.current

    async def plan_many(
        self, members: list[tuple[int, MemberRow]], *, observed: bool, now: datetime
    ) -> Plan:
        """Decide for each (event id, member) and plan what each decision causes."""
        policy = self.policy
        listening = self._events.listening
        rules = {rule.name: rule for rule in policy.rules} if listening else {}
        events: list[DecisionMade] = []
        uses_roles = policy.uses_roles
        recent = await self._recent_joins(policy, {row.guild_id for _, row in members}, now)
        items = []
        for event_id, row in members:
            roles = (
                self._directory.member_roles(row.guild_id, row.user_id)
                if uses_roles
                else frozenset()  # no rule looks at roles: skip reading them
            )
            facts = facts_from_row(
                row,
                observed=observed,
                roles=roles,
                recent_joins=recent.get(row.guild_id, ()),
            )
            decision = decide(policy, facts, now)
            actions, timer = await self._plan(row, decision, facts.display_name)
            items.append(
                DecisionInput(
                    row.guild_id,
                    row.user_id,
                    event_id,
                    decision,
                    observed,
                    actions,
                    timer,
                    stay=row.stay,  # cancelled with the stay if it ends before they act
                )
            )
            if listening:
                dm = next((a.payload["template"] for a in actions if a.kind == "dm"), None)
                events.append(
                    DecisionMade(
                        at=now,
                        guild_id=row.guild_id,
                        user_id=row.user_id,
                        member=member_label(facts.display_name, facts.username),
                        decision=decision,
                        observed=observed,
                        dm=dm,
                        rule=rules.get(decision.rule),
                        facts=facts,
                        timezone=policy.owner.timezone,
                    )
                )
        return Plan(items, events)

    async def _recent_joins(
        self, policy: Policy, guild_ids: set[int], now: datetime
    ) -> dict[int, tuple[datetime, ...]]:
        window = policy.surge_window
        if window is None:  # no surge rule: nothing to count
            return {}
        return {g: await self._store.recent_join_times(g, now - window, now) for g in guild_ids}

    async def _plan(
        self, member: MemberRow, decision: Decision, name: str
    ) -> tuple[list[ActionSpec], TimerSpec | None]:
        actions: list[ActionSpec] = []
        timer: TimerSpec | None = None
        if decision.action is Action.FOLLOW_BACK and not member.followed:
            role = self._follow_back_role(member.guild_id)
            if member.unfollowed_by_owner:
                log.info("not following %s back: the owner unfollowed them", member.user_id)
            elif role is not None:
                actions.append(_add_role(role, f"follow back (rule {decision.rule})"))
        elif decision.action is Action.LATER and decision.due is not None:
            timer = TimerSpec("later", decision.due)
        elif decision.action is Action.OBSERVE and decision.due is not None:
            timer = TimerSpec("observe", decision.due)
        template = decision.reply if decision.action is Action.DECLINE else decision.notify
        # A declined person who comes back is not messaged again; bots never are.
        if template is not None and not member.declined_before and self._may_dm(member):
            dm = await self._dm(template, name, decision.due)
            if dm is not None:
                actions.append(dm)
        return actions, timer

    def late_follow_back(self, member: MemberRow) -> tuple[list[ActionSpec], TimerOutcome]:
        """What a late follow-back does when it falls due, and its outcome."""
        if member.followed:
            return [], TimerOutcome.ALREADY_FOLLOWED
        if member.unfollowed_by_owner:
            return [], TimerOutcome.OWNER_UNFOLLOWED
        role = self._follow_back_role(member.guild_id)
        if role is None:
            return [], TimerOutcome.ROLE_MISSING
        return [_add_role(role, "late follow-back")], TimerOutcome.FOLLOWED_LATE

    def _may_dm(self, member: MemberRow) -> bool:
        return not member.bot and member.user_id != self._bot_user_id

    async def _dm(self, template_name: str, name: str, due: datetime | None) -> ActionSpec | None:
        template = self.policy.replies.get(template_name)
        if template is None or not template.dm:
            return None  # DMs are opt-in per template
        variant = await self._store.next_variant(template_name)
        tz = self.policy.owner.timezone
        when = human_due(due, tz) if due else "soon"
        text = render_reply(template, variant, name=name, due=when, owner="me")
        return ActionSpec("dm", {"text": text, "template": template_name})

    def _follow_back_role(self, guild_id: int) -> int | None:
        role = self._directory.role_id(guild_id, self.policy.follow_back_role)
        if role is None:
            log.warning(
                "follow-back role %r not found in guild %s", self.policy.follow_back_role, guild_id
            )
        return role


def _add_role(role_id: int, reason: str) -> ActionSpec:
    return ActionSpec("add_role", {"role_id": role_id, "reason": reason})
