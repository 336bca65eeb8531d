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

from bot.policy import Action, Decision, Policy, decide, miss_words, render_reply
from bot.service.policy_holder import PolicyHolder
from bot.store import ActionSpec, DecisionInput, MemberRow, Store, TimerSpec, facts_from_row

log = logging.getLogger(__name__)


class Directory(Protocol):
    """What the pipeline needs to know about a guild, answered by the Discord layer."""

    def role_id(self, guild_id: int, name_or_id: str) -> int | None: ...

    def member_roles(self, guild_id: int, user_id: int) -> frozenset[str]: ...


def _silent(line: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Hooks:
    """Where the pipeline reports what it queued, so the workers wake at once."""

    wake_outbox: Callable[[], None] = lambda: None
    schedule_timer: Callable[[datetime], None] = lambda due: None
    report: Callable[[str], None] = _silent  # human transcript (demo)

    @property
    def reporting(self) -> bool:
        """False when nobody reads the transcript: then it is not written."""
        return self.report is not _silent


def human_due(due: datetime, timezone: str) -> str:
    return due.astimezone(ZoneInfo(timezone)).strftime("%a %d %b, %H:%M")


class Planner:
    def __init__(
        self,
        store: Store,
        policies: PolicyHolder,
        directory: Directory,
        bot_user_id: int,
        hooks: Hooks,
    ) -> None:
        self._store = store
        self._policies = policies
        self._directory = directory
        self._bot_user_id = bot_user_id
        self._hooks = hooks
        self._names: dict[int, str] = {}

    @property
    def policy(self) -> Policy:
        return self._policies.current

    async def plan_many(
        self, members: list[tuple[int, MemberRow]], *, observed: bool, now: datetime
    ) -> list[DecisionInput]:
        """Decide for each (event id, member) and plan what each decision causes."""
        policy = self.policy
        self._names.clear()  # names of this batch only, for its summaries
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
            self._names[row.user_id] = row.username
            items.append(
                DecisionInput(
                    row.guild_id, row.user_id, event_id, decision, observed, actions, timer
                )
            )
        return items

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

    def late_follow_back(self, member: MemberRow) -> tuple[list[ActionSpec], str]:
        """What a late follow-back does when it falls due, and the outcome in words."""
        if member.followed:
            return [], "already followed"
        if member.unfollowed_by_owner:
            return [], "skipped: the owner unfollowed them by hand"
        role = self._follow_back_role(member.guild_id)
        if role is None:
            return [], "skipped: follow-back role not found"
        return [_add_role(role, "late follow-back")], "followed back (late)"

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

    def summary(self, item: DecisionInput) -> str:
        decision = item.decision
        name = self._names.get(item.user_id, str(item.user_id))
        tz = self.policy.owner.timezone
        due = f", due {human_due(decision.due, tz)}" if decision.due else ""
        line = f"{name}: {decision.action.value} by rule {decision.rule!r}{due}"
        if decision.misses:  # why not the rule just before it: the nearest miss
            line += f"\n      why: {miss_words(decision.misses[-1])}"
        return line


def _add_role(role_id: int, reason: str) -> ActionSpec:
    return ActionSpec("add_role", {"role_id": role_id, "reason": reason})
