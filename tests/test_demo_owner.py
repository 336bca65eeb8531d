"""The demo's owner act: a review approved by button after a restart, /explain, /list add."""

from __future__ import annotations

from pathlib import Path

from bot.demo import DEMO_POLICY, Demo


async def test_the_demo_shows_the_owners_controls(tmp_path: Path) -> None:
    shipped = DEMO_POLICY.read_bytes()
    lines: list[str] = []
    assert await Demo(tmp_path / "demo.sqlite3", lines.append).run() == 0
    text = "\n".join(lines)
    act = text[text.index("== the owner's controls") :]
    assert "the bot restarts on a copy of the policy" in act
    restart = act.index("the bot restarts")
    assert act.index("the owner presses Approve") > restart  # the button works after it
    assert "~~wave_11~~: approved by <@" in act
    assert "Already decided: approved by <@" in act
    assert "decision: review" in act and "why not the earlier rules:" in act
    assert "approved by <@" in act[act.index("/explain") :]
    assert "comment lines are all still there: True" in act
    assert "approved wave_11" in act  # the run log's line for the owner's click
    assert "added to a policy list (known: " in act
    assert "# people the owner knows offline" in act
    assert DEMO_POLICY.read_bytes() == shipped  # the shipped file is never modified
