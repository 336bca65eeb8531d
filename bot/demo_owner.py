"""The demo's last act: the owner's controls through real slash commands and buttons.

/pending lists the held reviews with their buttons; the bot restarts and the owner's
Approve still works (a second click is told who decided); /explain says why, in the
CLI's words, with the history; /list add writes to a copy of the demo policy and
keeps its comments (the shipped file is never modified).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

from bot.standin import SampleWorld, StandIn
from bot.store import Store


class Stage(Protocol):
    """What the demo gives this act (bot.demo.Demo)."""

    standin: StandIn
    world: SampleWorld

    def say(self, text: str) -> None: ...

    def heading(self, text: str) -> None: ...

    async def restart(self, policy: Path) -> None: ...

    def store(self) -> Store: ...


async def owner_controls(stage: Stage, demo_policy: Path) -> bool:
    """Returns True when every step answered as it should."""
    s, w = stage.standin, stage.world
    owner, channel = w.owner_id, w.general_channel_id
    stage.heading("the owner's controls: /pending, a button after a restart, /explain, /list")

    async def slash(name: str, options: dict[str, Any] | None = None) -> tuple[Any, str]:
        stage.say(f"the owner types /{name} {_options(options)}".rstrip())
        ix = await s.slash(w.guild_id, channel, owner, name, options)
        answer = await ix.wait_response(timeout=10)
        if answer["type"] == 5:  # deferred: the answer follows
            (first,) = await ix.wait_followups(1, timeout=10)
            return ix, str(first["content"])
        return ix, str(answer["data"].get("content", ""))

    ix, text = await slash("pending")
    _show(stage, text, limit=3)
    stale, _ = await slash("pending")  # a second copy of the list, clicked after the first
    approve = next((c for c in _custom_ids(s, ix.original_message_id) if "approve" in c), None)
    if approve is None:
        stage.say("nothing to approve")
        return False

    folder = Path(tempfile.mkdtemp(prefix="followback-demo-policy-"))
    policy = folder / demo_policy.name
    shutil.copyfile(demo_policy, policy)  # edited below; the shipped file stays as it is
    stage.say(f"the bot restarts on a copy of the policy ({policy})")
    await stage.restart(policy)

    async def click(on: Any) -> tuple[dict[str, Any], list[Any]]:
        stage.say(f"the owner presses Approve (custom_id {approve}) on message {on}")
        assert approve is not None
        pressed = await s.click(channel, on, approve, owner)
        answer = await pressed.wait_response(timeout=10)
        try:
            followups = list(await pressed.wait_followups(1, timeout=1))
        except TimeoutError:  # none: the winner is answered by the refreshed message
            followups = []
        return answer, followups

    answer, _ = await click(ix.original_message_id)
    _show(stage, str((answer.get("data") or {}).get("content", "")), limit=2)
    stage.say("the same button on the other copy of the list, pressed again:")
    answer, told = await click(stale.original_message_id)
    ok = bool(told) and "Already decided" in told[0]["content"]
    if told:
        stage.say(f"  the bot answers, privately: {told[0]['content']}")

    decision = int(approve.split(":")[1])
    member = await _member_of(stage, decision)
    _, text = await slash("explain", {"member": member})
    _show(stage, text.replace("```", "").strip(), limit=24)
    ok = ok and "decision:" in text and "approved by" in text

    before = policy.read_text(encoding="utf-8")
    _, text = await slash("list add", {"name": "known", "member": member})
    stage.say(f"  the bot answers: {text}")
    after = policy.read_text(encoding="utf-8")
    kept = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    stage.say(
        f"  the file now lists {member} under `known`; its {len(kept)} comment lines are all "
        f"still there: {all(line in after.splitlines() for line in kept)}"
    )
    line = next((x for x in after.splitlines() if x.lstrip().startswith("known:")), "")
    stage.say(f"  {line.strip()}")
    shutil.rmtree(folder, ignore_errors=True)
    return ok and str(member) in after and all(line in after.splitlines() for line in kept)


async def _member_of(stage: Stage, decision_id: int) -> int:
    found = await stage.store().decision_member(decision_id)
    assert found is not None
    return int(found[1])


def _custom_ids(standin: StandIn, message_id: int | None) -> list[str]:
    if message_id is None or message_id not in standin.world.messages:
        return []
    components = standin.world.message_json(message_id).get("components") or []
    return [b["custom_id"] for row in components for b in row["components"]]


def _options(options: dict[str, Any] | None) -> str:
    return " ".join(f"{k}:{v}" for k, v in (options or {}).items())


def _show(stage: Stage, text: str, limit: int) -> None:
    lines = text.splitlines()
    for line in lines[:limit]:
        stage.say(f"  | {line}")
    if len(lines) > limit:
        stage.say(f"  | ... ({len(lines) - limit} more lines)")


__all__ = ["Stage", "owner_controls"]
