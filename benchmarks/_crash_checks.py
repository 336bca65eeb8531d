"""The crash test's verdict: each rule of issue 10 as a count of the times it was broken.

A stay runs from one join to the next leave. The rules:
  - every member present at the end has exactly one decision for their current stay;
  - no role PUT for a member who already had it from the same stay;
  - no message sent twice for one outbox row (nonce), nor twice of one template in one stay;
  - every due late follow-back fired exactly once;
  - no action carried out for an ended stay;
  - no pinging message.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from benchmarks._crash_evidence import (
    Attempt,
    Decision,
    Delivered,
    Evidence,
    decision_stay,
    pings,
)
from benchmarks._crash_world import Members, Stay

# A leave reaches a live bot through the gateway: what it sends this soon after was
# already on its way. A request retried (after a 429 or 5xx answer) is the same request.
LEAVE_GRACE = timedelta(seconds=3)
RETRY_CHAIN = timedelta(seconds=10)
DUE_SLACK = timedelta(milliseconds=500)  # a late role PUT this early still counts as on time
StayKey = tuple[int, datetime]


class Life(Protocol):
    """One start of the bot (benchmarks._crash_procs.BotRun)."""

    number: int
    log_path: Path
    started: datetime
    ready: datetime | None
    ended: datetime | None
    killed_before_ready: bool
    exit_code: int | None


def key(stay: Stay) -> StayKey:
    return (stay.user_id, stay.joined_at)


@dataclass
class Verdict:
    defects: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)

    def count(self, rule: str, n: int = 0) -> None:
        self.defects.setdefault(rule, 0)
        self.defects[rule] += n

    def found(self, rule: str, example: str) -> None:
        self.count(rule, 1)
        self.examples.setdefault(rule, [])
        if len(self.examples[rule]) < 3:
            self.examples[rule].append(example)

    @property
    def total(self) -> int:
        return sum(self.defects.values())


class Judge:
    def __init__(
        self, members: Members, evidence: Evidence, runs: Sequence[Life], settled: datetime
    ) -> None:
        self.members = members
        self.evidence = evidence
        self.runs = runs
        self.settled = settled
        self.verdict = Verdict()
        self.join_decisions: dict[StayKey, list[Decision]] = defaultdict(list)
        self.second_looks: dict[StayKey, list[Decision]] = defaultdict(list)
        for decision in evidence.decisions:
            stay = decision_stay(decision, evidence, members)
            if stay is not None:
                group = self.second_looks if decision.observed else self.join_decisions
                group[key(stay)].append(decision)
        self.role_puts: dict[StayKey, list[Attempt]] = defaultdict(list)
        for attempt in evidence.attempts:
            stay = self._stay_of(attempt)
            if attempt.kind == "role" and attempt.ok and stay is not None:
                self.role_puts[key(stay)].append(attempt)

    def _stay_of(self, attempt: Attempt) -> Stay | None:
        if attempt.user_id is None:
            return None
        return self.members.stay_at(attempt.user_id, attempt.at)

    def _name(self, user_id: int | None) -> str:
        return self.members.names.get(user_id or 0, str(user_id))

    def judge(self) -> Verdict:
        self.check_decisions()
        self.check_role_puts()
        self.check_messages()
        self.check_late_follow_backs()
        self.check_ended_stays()
        self.check_runs()
        return self.verdict

    # -- decisions -------------------------------------------------------------------------------
    def check_decisions(self) -> None:
        v = self.verdict
        v.count("present member without a decision for the current stay")
        v.count("extra decisions in one stay")
        v.count("observe window not decided again")
        for uid in self.members.present:
            stay = self.members.current(uid)
            assert stay is not None
            decisions = self.join_decisions.get(key(stay), [])
            if not decisions:
                v.found(
                    "present member without a decision for the current stay",
                    f"{self._name(uid)} joined {stay.joined_at:%H:%M:%S.%f}",
                )
            elif self._due_observe(decisions[0]) and not self.second_looks.get(key(stay)):
                v.found("observe window not decided again", self._name(uid))
        for stay_key, decisions in [*self.join_decisions.items(), *self.second_looks.items()]:
            for extra in decisions[1:]:
                v.found(
                    "extra decisions in one stay",
                    f"{self._name(stay_key[0])}: decisions {[d.id for d in decisions]}"
                    f" ({extra.action})",
                )

    def _due_observe(self, decision: Decision) -> bool:
        return decision.action == "observe" and self._due(decision)

    def _due(self, decision: Decision) -> bool:
        return decision.due is not None and decision.due + timedelta(seconds=1) < self.settled

    # -- role changes ----------------------------------------------------------------------------
    def check_role_puts(self) -> None:
        self.verdict.count("role PUT repeated in one stay")
        for (uid, _), puts in self.role_puts.items():
            for again in puts[1:]:
                self.verdict.found(
                    "role PUT repeated in one stay",
                    f"{self._name(uid)}: PUTs at {[f'{p.at:%H:%M:%S.%f}' for p in puts]}"
                    f" (again at {again.at:%H:%M:%S.%f})",
                )

    def check_late_follow_backs(self) -> None:
        v = self.verdict
        v.count("due late follow-back not fired")
        v.count("due late follow-back fired twice")
        due = fired_once = 0
        for uid in self.members.present:
            stay = self.members.current(uid)
            assert stay is not None
            decisions = self.join_decisions.get(key(stay), [])
            if not decisions or decisions[0].action != "later" or not self._due(decisions[0]):
                continue
            due += 1
            when = decisions[0].due
            assert when is not None
            puts = [p for p in self.role_puts.get(key(stay), []) if p.at >= when - DUE_SLACK]
            if not puts:
                v.found("due late follow-back not fired", f"{self._name(uid)} due {when:%X}")
            elif len(puts) > 1:
                v.found("due late follow-back fired twice", f"{self._name(uid)} due {when:%X}")
            else:
                fired_once += 1
        v.count("due timer never fired")
        for timer in self.evidence.timers.values():
            if timer.status == "scheduled" and timer.due + timedelta(seconds=1) < self.settled:
                v.found("due timer never fired", f"timer {timer.id} ({timer.kind}) still scheduled")
        v.figures["late follow-backs due for present members"] = due
        v.figures["late follow-backs fired exactly once"] = fired_once

    # -- messages --------------------------------------------------------------------------------
    def check_messages(self) -> None:
        v = self.verdict
        v.count("message sent twice for one outbox row")
        v.count("template sent twice in one stay")
        v.count("pinging message")
        delivered = self.evidence.delivered
        for nonce, n in Counter(m.nonce for m in delivered if m.nonce).items():
            for _ in range(n - 1):
                v.found("message sent twice for one outbox row", f"nonce {nonce}")
        per_stay: Counter[tuple[StayKey, str]] = Counter()
        for message in delivered:
            stay = self.members.stay_at(message.user_id, message.at)
            if stay is not None and message.template is not None:
                per_stay[(key(stay), message.template)] += 1
        for ((uid, _), template), n in per_stay.items():
            for _ in range(n - 1):
                v.found("template sent twice in one stay", f"{self._name(uid)}: {template}")
        pinging = {
            a.nonce or a.path
            for a in self.evidence.attempts
            if a.kind == "message" and pings(a.allowed_mentions)
        } | {m.nonce or str(m.at) for m in delivered if pings(m.allowed_mentions)}
        for which in sorted(pinging):
            v.found("pinging message", which)
        v.figures["DMs delivered"] = len(delivered)
        waits = sorted(self._waits(delivered))
        if waits:  # issue 10 item 5: DMs must not wait behind role changes
            v.figures["DM wait after its decision, median ms"] = waits[len(waits) // 2]
            v.figures["DM wait after its decision, worst ms"] = waits[-1]

    def _waits(self, delivered: Sequence[Delivered]) -> list[int]:
        waits = []
        for message in delivered:
            decision = self.evidence.decision(
                self.evidence.outbox_decision.get(message.outbox_id or 0)
            )
            if decision is not None:
                waits.append(int((message.at - decision.decided_at).total_seconds() * 1000))
        return waits

    # -- ended stays -----------------------------------------------------------------------------
    def check_ended_stays(self) -> None:
        rule = "action for an ended stay"
        self.verdict.count(rule)
        last_failed: dict[tuple[str, int | None, str], datetime] = {}
        for attempt in self.evidence.attempts:
            chained = _retry_of(attempt, last_failed)
            if attempt.user_id is None or attempt.user_id not in self.members.stays:
                continue
            stay = self._stay_of(attempt)
            if stay is None and not chained and self._knew_of_leave(attempt):
                self.verdict.found(
                    rule,
                    f"{attempt.kind} for {self._name(attempt.user_id)} at"
                    f" {attempt.at:%H:%M:%S.%f}, after they left (status {attempt.status})",
                )
            elif self._unearned_role(stay, attempt):
                self.verdict.found(
                    rule,
                    f"role PUT for {self._name(attempt.user_id)} at {attempt.at:%X}:"
                    " no decision of this stay gives it (yet)",
                )
        for message in self.evidence.delivered:
            self._check_message_stay(message.user_id, message.at, message.outbox_id)

    def _check_message_stay(self, uid: int, at: datetime, outbox_id: int | None) -> None:
        stay = self.members.stay_at(uid, at)
        decision = self.evidence.decision(self.evidence.outbox_decision.get(outbox_id or 0))
        if stay is None or decision is None:
            return
        decided_for = decision_stay(decision, self.evidence, self.members)
        if decided_for is not None and key(decided_for) != key(stay):
            self.verdict.found(
                "action for an ended stay",
                f"DM to {self._name(uid)} at {at:%X} for decision {decision.id}"
                f" of the stay from {decided_for.joined_at:%X}",
            )

    def _unearned_role(self, stay: Stay | None, attempt: Attempt) -> bool:
        """A role given in this stay that no decision of this stay called for (yet)."""
        if stay is None or attempt.kind != "role" or not attempt.ok:
            return False
        return not self._stay_gives_role(stay, attempt.at)

    def _stay_gives_role(self, stay: Stay, at: datetime) -> bool:
        for decision in [
            *self.join_decisions.get(key(stay), []),
            *self.second_looks.get(key(stay), []),
        ]:
            if decision.action == "follow_back" and decision.decided_at <= at + DUE_SLACK:
                return True
            if decision.action == "later" and decision.due and decision.due <= at + DUE_SLACK:
                return True
        return False

    def _knew_of_leave(self, attempt: Attempt) -> bool:
        """Whether the bot that sent this had had time to learn of the member's leave: its
        start-up catch-up was done, and both that and the leave were LEAVE_GRACE ago."""
        assert attempt.user_id is not None
        left = self.members.leave_before(attempt.user_id, attempt.at)
        run = next(
            (r for r in self.runs if r.started <= attempt.at <= (r.ended or attempt.at)), None
        )
        if left is None or run is None or run.ready is None:
            return False
        return attempt.at > max(left, run.ready) + LEAVE_GRACE

    # -- the bot itself --------------------------------------------------------------------------
    def check_runs(self) -> None:
        self.verdict.count("bot exited on its own")
        for run in self.runs:
            if run.exit_code not in (None, 0, -9):
                self.verdict.found("bot exited on its own", f"run {run.number}: {run.log_path}")
        self.verdict.count("last start never ready")
        if self.runs and self.runs[-1].ready is None:
            self.verdict.found("last start never ready", str(self.runs[-1].log_path))
        v = self.verdict.figures
        v["bot starts"] = len(self.runs)
        v["kills with a role PUT in flight"] = self._in_flight_at_kills()
        v["answers held at a kill"] = sum(a.held for a in self.evidence.attempts)
        v["kills before ready"] = sum(r.killed_before_ready for r in self.runs[:-1])
        v["decisions"] = len(self.evidence.decisions)
        v["role PUTs accepted"] = sum(a.kind == "role" and a.ok for a in self.evidence.attempts)
        v["requests recorded"] = self.evidence.request_count
        v["outbox rows left open"] = self.evidence.open_outbox

    def _in_flight_at_kills(self) -> int:
        """Role PUTs the stand-in carried out while the bot that sent them was down, or whose
        answer it held until after the kill (the in-doubt window)."""
        gaps = [
            (run.ended, after.started)
            for run, after in zip(self.runs, self.runs[1:], strict=False)
            if run.ended is not None
        ]
        return sum(
            1
            for a in self.evidence.attempts
            if a.kind == "role" and (a.held or any(start < a.at < end for start, end in gaps))
        )


def _retry_of(attempt: Attempt, last_failed: dict[tuple[str, int | None, str], datetime]) -> bool:
    """Whether `attempt` repeats a request that failed just before (then it is no new action);
    remembers failed ones."""
    route = (attempt.kind, attempt.user_id, attempt.nonce or attempt.path)
    before = last_failed.get(route)
    if attempt.status == 429 or attempt.status >= 500:
        last_failed[route] = attempt.at
    return before is not None and attempt.at - before <= RETRY_CHAIN


def judge(members: Members, evidence: Evidence, runs: Sequence[Life], settled: datetime) -> Verdict:
    return Judge(members, evidence, runs, settled).judge()
