"""`followback demo`: the whole bot against the stand-in, a scripted scenario."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot.demo import DEMO_POLICY, Demo
from bot.service.events import ActionDone, Event


async def test_the_demo_covers_every_decision_and_ends_with_nothing_undecided(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    demo = Demo(tmp_path / "demo.sqlite3", lines.append)
    told: list[Event] = []
    demo.events.subscribe(told.append)
    assert await demo.run() == 0
    text = "\n".join(lines)
    for action in ("follow_back", "later", "observe", "review", "decline", "ignore"):
        assert f": {action} by rule" in text, action
    assert "could not dm closed_cleo" in text and "50007" in text  # a closed DM, recorded
    assert "late follow-back for closed_cleo: followed back (late)" in text  # still followed
    assert "later for leaving_leo cancelled: left the server" in text
    assert "the owner unfollowed barbara_l by hand" in text
    assert "restart: the bot goes offline" in text
    assert "events without a decision: 0" in text
    # One mention of each kind (bot/demo_mentions.py).
    assert "replied to regular_rae: 'Thanks for the mention" in text
    assert 'replied to newbie_nia: "Thanks for asking' in text
    assert "no reply to barbara_l: the owner answered first" in text
    assert "mention by helperbot in #general: ignore (rule 'bots')" in text
    assert "could not reply plain_pam" in text and "50013" in text
    summary = text[text.index("== summary") :]
    followed = next(line for line in lines if "holding the follow-back role" in line)
    assert "barbara_l" not in followed  # never given back after the owner took it
    assert "newbie_nia" in followed  # followed back after observing her messages

    # The summary matches the transcript: every member an action went out for is in it,
    # the members caught up at start-up included.
    acted_on = {e.member for e in told if isinstance(e, ActionDone)}
    assert {"Ada (ada_l)", "Grace (grace_h)", "linus_t"} <= acted_on
    for member in acted_on:
        assert member in summary, member
    for name in ("ada_l", "grace_h", "linus_t"):
        assert name in followed, name  # given the role during catch-up

    # It ends with the digest: pending reviews (the owner approved one just before), an
    # unanswered mention, a clean-up suggestion, and page 2 turned to.
    digest = text[text.index("== the daily digest") :]
    assert "== " not in digest[3:]  # the last act
    held = re.search(r"## Pending reviews \(1–10 of (\d+)\)", digest)
    assert held is not None and int(held[1]) > 10 and "plain\\_pam" in digest
    assert "## Unanswered mentions" in digest
    assert "regular\\_rae · left" in digest and "soon after a follow-back" in digest
    assert "the message turns to page 2" in digest
    assert f"## Pending reviews (11–{held[1]} of {held[1]})" in digest and "Page 2 of 2" in digest


async def test_the_demo_says_its_policy_and_clock_and_why_each_decision_matched(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    assert await Demo(tmp_path / "demo.sqlite3", lines.append).run() == 0
    text = "\n".join(lines)
    header = text[: text.index("== the bot starts")]
    assert str(DEMO_POLICY) in header and "version" in header
    assert "one simulated hour per real second" in header
    # every decision line is followed by why its rule matched
    decisions = [i for i, line in enumerate(lines) if " by rule " in line]
    assert decisions
    for i in decisions:
        why = lines[i].split("\n", 1)[1] if "\n" in lines[i] else lines[i + 1]
        assert "why: matched" in why or "why: no rule matched" in why, lines[i]
    assert "newbie_nia: observe by rule 'brand-new accounts'" in text
    assert "why: matched account_age is 2d (under 7d)" in text  # with her actual value
    # the review is not forgotten: the summary lists it as waiting for the owner
    pending = next(line for line in lines if "waiting for the owner's review" in line)
    assert "plain_pam" in pending and "default avatar and a young account" in pending


def test_demo_into_a_closed_pipe_gets_no_traceback() -> None:
    """`followback demo | head -2`: the transcript stops quietly, the demo still runs to its end."""
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line
    err = process.stderr.read().decode()
    assert process.wait(120) == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
