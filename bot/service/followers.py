"""The follower pipeline: store the event, decide by the policy, queue the actions.

Nothing here talks to Discord: role changes and DMs become outbox rows, late
follow-backs and observe windows become timers in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.policy import Action, Decision, Policy, decide, miss_words, render_reply
from bot.service.clock import Clock
from bot.service.policy_holder import PolicyHolder
from bot.store import ActionSpec, MemberRow, Store, TimerRow, TimerSpec, UserInfo

log = logging.getLogger(__name__)

FOLLOWER_EVENTS = ("join", "screened", "catch_up")


class Directory(Protocol):
    """What the pipeline needs to know about a guild, answered by the Discord layer."""

    def role_id(self, guild_id: int, name_or_id: str) -> int | None: ...

    def member_roles(self, guild_id: int, user_id: int) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class Hooks:
    """Where the pipeline reports what it queued, so the workers wake at once."""

    wake_outbox: Callable[[], None] = lambda: None
    schedule_timer: Callable[[TimerRow], None] = lambda timer: None
    report: Callable[[str], None] = lambda line: None  # human transcript (demo)


def human_due(due: datetime, timezone: str) -> str:
    return due.astimezone(ZoneInfo(timezone)).strftime("%a %d %b, %H:%M")


class FollowerService:
    def __init__(
        self,
        store: Store,
        policies: PolicyHolder,
        clock: Clock,
        directory: Directory,
        *,
        bot_user_id: int,
        churn_window: timedelta,
        owner_id: int | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self._store = store
        self._policies = policies
        self._clock = clock
        self._directory = directory
        self._bot_user_id = bot_user_id
        # Neither the bot nor the owner is ever treated as a follower.
        self._not_followers = {bot_user_id} | ({owner_id} if owner_id is not None else set())
        self._churn_window = churn_window
        self.hooks = hooks or Hooks()

    @property
    def policy(self) -> Policy:
        return self._policies.current

    # --- events -----------------------------------------------------------------

    async def member_joined(
        self,
        guild_id: int,
        user: UserInfo,
        joined_at: datetime,
        *,
        pending: bool = False,
        kind: str = "join",
    ) -> int | None:
        """A follower arrived. Stored first; decided unless screening is pending."""
        if user.user_id in self._not_followers:
            return None
        now = self._clock.now()
        event_id = await self._store.record_event(
            guild_id,
            user.user_id,
            kind,
            {"pending": pending, "joined_at": joined_at.isoformat()},
            now,
        )
        await self._store.record_join(guild_id, user, joined_at, pending, now)
        if pending:
            # Giving any role bypasses membership screening: wait for the member.
            await self._store.mark_event_processed(event_id, now)
            self.hooks.report(f"{user.username} joined; waiting for membership screening")
            return None
        return await self._decide(guild_id, user.user_id, event_id, observed=False)

    async def screening_done(self, guild_id: int, user_id: int) -> int | None:
        now = self._clock.now()
        member = await self._store.get_member(guild_id, user_id)
        if member is None or not member.pending:
            return None
        event_id = await self._store.record_event(guild_id, user_id, "screened", {}, now)
        await self._store.record_screening_done(guild_id, user_id)
        return await self._decide(guild_id, user_id, event_id, observed=False)

    async def member_left(self, guild_id: int, user_id: int) -> None:
        now = self._clock.now()
        event_id = await self._store.record_event(guild_id, user_id, "leave", {}, now)
        member = await self._store.record_leave(guild_id, user_id, now, self._churn_window)
        # Nothing left to do for someone who is gone; timers re-check at due time.
        await self._store.cancel_actions(guild_id, user_id, now, kinds=("add_role", "dm"))
        await self._store.mark_event_processed(event_id, now)
        if member is not None:
            self.hooks.report(f"{member.username} left the server")

    async def follow_role_changed_by_hand(
        self, guild_id: int, user_id: int, has_role: bool
    ) -> None:
        """The owner gave or took the follow-back role themselves: record, never undo."""
        now = self._clock.now()
        kind = "role_added" if has_role else "role_removed"
        event_id = await self._store.record_event(guild_id, user_id, kind, {}, now)
        await self._store.set_followed(guild_id, user_id, has_role, now, by_owner=True)
        if not has_role:
            await self._store.cancel_actions(guild_id, user_id, now, kinds=("add_role",))
        await self._store.mark_event_processed(event_id, now)
        member = await self._store.get_member(guild_id, user_id)
        name = member.username if member else str(user_id)
        self.hooks.report(f"the owner {'followed' if has_role else 'unfollowed'} {name} by hand")

    async def message_seen(
        self,
        guild_id: int,
        author_id: int,
        *,
        links: int = 0,
        invites: int = 0,
        attachments: int = 0,
        everyone_pings: int = 0,
        owner_mentions: int = 0,
    ) -> None:
        await self._store.bump_activity(
            guild_id,
            author_id,
            messages=1,
            links=links,
            invites=invites,
            attachments=attachments,
            everyone_pings=everyone_pings,
            owner_mentions=owner_mentions,
        )

    async def timer_due(self, timer: TimerRow) -> None:
        """A late follow-back or an observe window fell due: check the member again."""
        now = self._clock.now()
        member = await self._store.get_member(timer.guild_id, timer.user_id)
        name = member.username if member else str(timer.user_id)
        if member is None or not member.present:
            if await self._store.fire_timer(timer.id, now, "cancelled: left the server"):
                self.hooks.report(f"{timer.kind} for {name} cancelled: left the server")
            return
        if timer.kind == "later":
            await self._late_follow_back(timer, member, now)
            return
        latest = await self._store.latest_decision(timer.guild_id, timer.user_id)
        if latest is not None and latest.observed and latest.decided_at >= timer.created_at:
            await self._store.fire_timer(timer.id, now, "already decided again")
            return
        event_id = await self._store.record_event(
            timer.guild_id, timer.user_id, "timer", {"timer_id": timer.id}, now
        )
        await self._decide(timer.guild_id, timer.user_id, event_id, observed=True)
        await self._store.fire_timer(timer.id, now, "decided again after observing")

    async def _late_follow_back(self, timer: TimerRow, member: MemberRow, now: datetime) -> None:
        actions: list[ActionSpec] = []
        if member.followed:
            outcome = "already followed"
        elif member.unfollowed_by_owner:
            outcome = "skipped: the owner unfollowed them by hand"
        else:
            role = self._follow_back_role(timer.guild_id)
            if role is None:
                outcome = "skipped: follow-back role not found"
            else:
                actions.append(self._add_role(role, "late follow-back"))
                outcome = "followed back (late)"
        if await self._store.fire_timer(timer.id, now, outcome, actions=actions):
            self.hooks.report(f"late follow-back for {member.username}: {outcome}")
            if actions:
                self.hooks.wake_outbox()

    async def resume_unprocessed(self) -> int:
        """Decide follower events stored before a crash but never decided."""
        count = 0
        for event in await self._store.unprocessed_events(FOLLOWER_EVENTS):
            member = await self._store.get_member(event.guild_id, event.user_id)
            if member is None or member.pending or not member.present:
                await self._store.mark_event_processed(event.id, self._clock.now())
                continue
            await self._decide(event.guild_id, event.user_id, event.id, observed=False)
            count += 1
        return count

    # --- deciding -----------------------------------------------------------------

    async def _decide(self, guild_id: int, user_id: int, event_id: int, *, observed: bool) -> int:
        now = self._clock.now()
        policy = self.policy
        roles = self._directory.member_roles(guild_id, user_id)
        facts = await self._store.member_facts(
            guild_id, user_id, now=now, observed=observed, roles=roles
        )
        if facts is None:  # the member row is written before every decision
            raise LookupError(f"member {user_id} of guild {guild_id} is not in the store")
        member = await self._store.get_member(guild_id, user_id)
        assert member is not None
        decision = decide(policy, facts, now)
        actions, timer = await self._plan(guild_id, member, decision, facts.display_name)
        decision_id = await self._store.record_decision(
            guild_id,
            user_id,
            event_id,
            decision,
            observed=observed,
            at=now,
            actions=actions,
            timer=timer,
        )
        self.hooks.report(self._summary(member.username, decision))
        if actions:
            self.hooks.wake_outbox()
        if timer is not None:
            for row in await self._store.timers_for(guild_id, user_id):
                if row.status == "scheduled":
                    self.hooks.schedule_timer(row)
        return decision_id

    async def _plan(
        self, guild_id: int, member: MemberRow, decision: Decision, name: str
    ) -> tuple[list[ActionSpec], TimerSpec | None]:
        policy = self.policy
        actions: list[ActionSpec] = []
        timer: TimerSpec | None = None
        if decision.action is Action.FOLLOW_BACK and not member.followed:
            role = self._follow_back_role(guild_id)
            if member.unfollowed_by_owner:
                log.info("not following %s back: the owner unfollowed them by hand", member.user_id)
            elif role is None:
                log.warning(
                    "follow-back role %r not found in guild %s", policy.follow_back_role, guild_id
                )
            else:
                actions.append(self._add_role(role, f"follow back (rule {decision.rule})"))
        elif decision.action is Action.LATER and decision.due is not None:
            timer = TimerSpec("later", decision.due)
        elif decision.action is Action.OBSERVE and decision.due is not None:
            timer = TimerSpec("observe", decision.due)
        template = decision.reply if decision.action is Action.DECLINE else decision.notify
        # A declined person who comes back is not messaged again.
        if template is not None and not member.declined_before and self._may_dm(member):
            dm = await self._dm(template, name, decision.due)
            if dm is not None:
                actions.append(dm)
        return actions, timer

    def _may_dm(self, member: MemberRow) -> bool:
        return not member.bot and member.user_id != self._bot_user_id

    async def _dm(self, template_name: str, name: str, due: datetime | None) -> ActionSpec | None:
        template = self.policy.replies.get(template_name)
        if template is None or not template.dm:
            return None  # DMs are opt-in per template
        variant = await self._store.next_variant(template_name)
        tz = self.policy.owner.timezone
        text = render_reply(
            template, variant, name=name, due=human_due(due, tz) if due else "soon", owner="me"
        )
        return ActionSpec("dm", {"text": text, "template": template_name})

    def _follow_back_role(self, guild_id: int) -> int | None:
        return self._directory.role_id(guild_id, self.policy.follow_back_role)

    @staticmethod
    def _add_role(role_id: int, reason: str) -> ActionSpec:
        return ActionSpec("add_role", {"role_id": role_id, "reason": reason})

    @staticmethod
    def _summary(username: str, decision: Decision) -> str:
        due = f", due {decision.due:%Y-%m-%d %H:%M}" if decision.due else ""
        line = f"{username}: {decision.action.value} by rule {decision.rule!r}{due}"
        if decision.misses:  # why not the rule just before it: the nearest miss
            line += f"\n      why: {miss_words(decision.misses[-1])}"
        return line
