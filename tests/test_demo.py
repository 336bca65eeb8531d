"""`followback demo`: the whole bot against the stand-in, a scripted scenario."""

from __future__ import annotations

from pathlib import Path

from bot.demo import Demo


async def test_the_demo_covers_every_decision_and_ends_with_nothing_undecided(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    demo = Demo(tmp_path / "demo.sqlite3", lines.append)
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
    followed = next(line for line in lines if "holding the follow-back role" in line)
    assert "barbara_l" not in followed  # never given back after the owner took it
    assert "newbie_nia" in followed  # followed back after observing her messages
