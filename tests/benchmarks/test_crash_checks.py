"""The crash test's rules, on stories written by hand: each broken rule is counted once,
and what is allowed (a retry, a request already on its way at a leave) is not counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._crash_checks import Verdict, judge
from benchmarks._crash_evidence import Attempt, Decision, Delivered, Evidence
from benchmarks._crash_world import Members

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
UID = 1001
NO_PINGS: dict[str, list[str]] = {"parse": []}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class Life:
    number: int = 1
    log_path: Path = Path("bot.log")
    started: datetime = T0 - timedelta(seconds=10)
    ready: datetime | None = T0 - timedelta(seconds=8)
    ended: datetime | None = None
    killed_before_ready: bool = False
    exit_code: int | None = 0


@dataclass
class Story:
    members: Members = field(default_factory=Members)
    decisions: list[Decision] = field(default_factory=list)
    outbox: dict[int, tuple[int, int]] = field(default_factory=dict)  # row -> (user, decision)
    attempts: list[Attempt] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    lives: list[Life] = field(default_factory=lambda: [Life()])

    def late(self, decision_id: int, joined: float, due: float) -> None:
        payload = {"joined_at": at(joined).isoformat()}
        self.decisions.append(
            Decision(decision_id, UID, "later", at(due), False, at(joined + 0.1), payload)
        )

    def role_put(self, when: float, status: int = 204) -> None:
        path = f"/guilds/1/members/{UID}/roles/2"
        self.attempts.append(Attempt("role", UID, at(when), status, path, None, None))

    def dm(self, row: int, decision_id: int, when: float, mentions: object = NO_PINGS) -> None:
        self.outbox[row] = (UID, decision_id)
        nonce = f"fb-{row}"
        self.attempts.append(
            Attempt("message", UID, at(when), 200, "/channels/9/messages", nonce, mentions)
        )
        self.delivered.append(Delivered(UID, at(when), "late_notice", nonce, row, mentions))

    def verdict(self, settled: float = 60) -> Verdict:
        evidence = Evidence(
            self.decisions,
            {},
            {row: user for row, (user, _) in self.outbox.items()},
            {row: decision for row, (_, decision) in self.outbox.items()},
            0,
            self.attempts,
            self.delivered,
            len(self.attempts),
        )
        return judge(self.members, evidence, self.lives, at(settled))


def one_stay() -> Story:
    story = Story()
    story.members.joined(UID, "late_1", at(0))
    story.late(1, joined=0, due=5)
    story.dm(1, 1, when=0.2)
    story.role_put(5.1)
    return story


def test_a_stay_decided_once_announced_once_and_followed_back_once_is_clean() -> None:
    verdict = one_stay().verdict()
    assert verdict.total == 0, verdict.defects
    assert verdict.figures["late follow-backs fired exactly once"] == 1
    assert verdict.figures["DM wait after its decision, worst ms"] == 100  # decided at 0.1 s


def test_a_rejoin_nobody_decided_is_a_lost_decision() -> None:
    story = one_stay()
    story.members.left(UID, at(10))
    story.members.joined(UID, "late_1", at(11))
    verdict = story.verdict()
    assert verdict.defects["present member without a decision for the current stay"] == 1


def test_a_second_role_put_in_one_stay_is_a_repeat_and_a_late_follow_back_fired_twice() -> None:
    story = one_stay()
    story.role_put(7.0)
    verdict = story.verdict()
    assert verdict.defects["role PUT repeated in one stay"] == 1
    assert verdict.defects["due late follow-back fired twice"] == 1


def test_a_late_follow_back_that_never_came_is_counted() -> None:
    story = one_stay()
    story.attempts = [a for a in story.attempts if a.kind != "role"]
    assert story.verdict().defects["due late follow-back not fired"] == 1


def test_an_earlier_stays_dm_delivered_in_the_next_stay_is_for_an_ended_stay() -> None:
    story = one_stay()
    story.members.left(UID, at(10))
    story.members.joined(UID, "late_1", at(11))
    story.late(2, joined=11, due=16)
    story.dm(2, 2, when=11.2)
    story.role_put(16.1)
    story.dm(1, 1, when=12.0)  # the old stay's row, sent again after the rejoin
    verdict = story.verdict()
    assert verdict.defects["action for an ended stay"] == 1
    assert verdict.defects["template sent twice in one stay"] == 1
    assert verdict.defects["message sent twice for one outbox row"] == 1


def test_a_role_put_after_the_leave_counts_only_once_the_bot_could_know() -> None:
    story = one_stay()
    story.members.left(UID, at(10))
    story.role_put(11.0, status=404)  # already on its way when the member left: allowed
    story.role_put(20.0, status=404)  # long after: the bot acted for an ended stay
    assert story.verdict().defects["action for an ended stay"] == 1


def test_a_bot_that_never_caught_up_did_not_know_of_the_leave() -> None:
    story = one_stay()
    story.members.left(UID, at(10))
    story.lives = [Life(ready=at(0), ended=at(12)), Life(number=2, started=at(15), ready=None)]
    story.role_put(20.0, status=404)
    assert story.verdict().defects["action for an ended stay"] == 0


def test_retries_of_a_failed_request_are_the_same_action() -> None:
    story = one_stay()
    story.members.left(UID, at(30))
    story.role_put(29.0, status=503)
    story.role_put(34.0, status=404)  # discord.py retrying the 503: not a new action
    verdict = story.verdict()
    assert verdict.defects["action for an ended stay"] == 0


def test_a_message_that_could_ping_is_counted() -> None:
    story = one_stay()
    story.dm(3, 1, when=1.0, mentions=None)
    assert story.verdict().defects["pinging message"] == 1
