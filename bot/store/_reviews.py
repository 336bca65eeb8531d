"""The owner's decisions (Approve, Decline, /follow, /unfollow), across tables: the
verdict, the owner's decisions row with what it causes, the owner action, in one
transaction. No SQL here: each table's module does its own part.

A verdict is a conditional write: only a review that is still pending (the member's
latest decision, still in the server, no verdict yet) is decided; everyone else is
told who decided it and when.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.policy.decision import Action, Decision
from bot.store._decisions import decision_member
from bot.store._members import clear_unfollowed_by_owner, set_followed
from bot.store._outbox import cancel_actions
from bot.store._owner_actions import record_owner_action
from bot.store._review_verdicts import (
    VerdictRow,
    insert_verdict,
    link_verdict,
    pending_review_of,
    review_state,
    verdict_for,
)
from bot.store._transactions import decide
from bot.store.db import to_db
from bot.store.rows import ActionSpec, DecisionInput

OWNER_RULE = "owner"  # the rule name of a decision the owner took by hand


@dataclass(frozen=True, slots=True)
class OwnerDecision:
    """What the owner decided, by which means, with what it causes."""

    verdict: str  # approve, decline, follow, unfollow
    actor_id: int
    via: str  # button, command
    actions: Sequence[ActionSpec]
    policy_version: str

    @property
    def follows(self) -> bool:
        return self.verdict in ("approve", "follow")


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """decided: this call decided it. Else `verdict` says who did, or is None when the
    review is no longer pending for another reason (a newer decision, the member left);
    exists is False for no such review."""

    decided: bool
    verdict: VerdictRow | None
    exists: bool = True
    owner_decision_id: int | None = None


def decide_review(
    conn: sqlite3.Connection, decision_id: int, owner: OwnerDecision, at: datetime
) -> ReviewOutcome:
    """Approve or decline a held review, only if it is still pending."""
    state = review_state(conn, decision_id)
    if state is None:
        return ReviewOutcome(False, None, exists=False)
    if not state:
        return ReviewOutcome(False, verdict_for(conn, decision_id))
    member = decision_member(conn, decision_id)
    assert member is not None  # a review in the queue is a stored decision
    guild_id, user_id = member
    now = to_db(at)
    if not insert_verdict(
        conn, decision_id, guild_id, user_id, owner.verdict, owner.actor_id, owner.via, now
    ):  # belt and braces: the transaction already serialises deciders
        return ReviewOutcome(False, verdict_for(conn, decision_id))
    owner_decision_id = _owner_decision(conn, guild_id, user_id, owner, at)
    link_verdict(conn, decision_id, owner_decision_id)
    return ReviewOutcome(True, verdict_for(conn, decision_id), owner_decision_id=owner_decision_id)


def decide_by_hand(
    conn: sqlite3.Connection, guild_id: int, user_id: int, owner: OwnerDecision, at: datetime
) -> int:
    """/follow or /unfollow: the owner's decision; a pending review of the member is
    settled by it (a later click is told who decided). Returns the decision id."""
    now = to_db(at)
    settled = pending_review_of(conn, guild_id, user_id)
    if settled is not None:
        insert_verdict(
            conn, settled, guild_id, user_id, owner.verdict, owner.actor_id, owner.via, now
        )
    decision_id = _owner_decision(conn, guild_id, user_id, owner, at)
    if settled is not None:
        link_verdict(conn, settled, decision_id)
    return decision_id


def _owner_decision(
    conn: sqlite3.Connection, guild_id: int, user_id: int, owner: OwnerDecision, at: datetime
) -> int:
    now = to_db(at)
    decision = Decision(
        rule=OWNER_RULE,
        action=Action.FOLLOW_BACK if owner.follows else Action.DECLINE,
        misses=(),
        policy_version=owner.policy_version,
    )
    item = DecisionInput(guild_id, user_id, None, decision, False, list(owner.actions), None)
    decision_id = decide(conn, item, now, at)
    if owner.follows:
        clear_unfollowed_by_owner(conn, guild_id, user_id, now)
    else:
        # Never re-add what the owner took away (late follow-backs check this too).
        cancel_actions(conn, guild_id, user_id, now, kinds=("add_role",))
        if owner.verdict == "unfollow":
            set_followed(conn, guild_id, user_id, False, now, by_owner=True)
    record_owner_action(
        conn,
        owner.actor_id,
        owner.verdict,
        now,
        guild_id=guild_id,
        user_id=user_id,
        detail=f"by {owner.via}; decision {decision_id}",
        policy_version=owner.policy_version,
    )
    return decision_id
