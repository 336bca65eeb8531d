"""The owner's controls end to end: real discord.py, real interactions, the stand-in."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from bot.client import bot as bot_module
from bot.client.tree import FAILED, REFUSED, admin_only
from bot.service.events import OwnerActed
from bot.settings import Settings
from tests.e2e.conftest import POLICY, Harness, eventually

MEMBER_COMMANDS = {"followback status"}  # commands anyone may use
LISTS = """
lists:
  # people I know in real life: keep this comment
  known:
    - someone_old   # an old friend
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    shutil.copy(POLICY, path)
    with path.open("a", encoding="utf-8") as f:
        f.write(LISTS)
    return path


@pytest.fixture
def delegates(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    chosen = harness.world.member_ids[:2]
    plain = harness.settings

    def settings(policy: Path = POLICY) -> Settings:
        return plain(policy).model_copy(update={"delegate_ids": chosen})

    monkeypatch.setattr(harness, "settings", settings)
    return chosen


async def slash(h: Harness, user: int, name: str, options: dict[str, Any] | None = None) -> Any:
    ix = await h.standin.slash(h.guild_id, h.world.general_channel_id, user, name, options)
    answer = await ix.wait_response(timeout=5)
    if answer["type"] == 5:  # deferred: the answer is the first followup
        (first,) = await ix.wait_followups(1)
        return ix, first["content"], first
    return ix, answer["data"].get("content", ""), answer["data"]


async def review_held(h: Harness, name: str) -> int:
    uid = await h.join(name)
    (decision,) = await h.decided(uid)
    assert decision.action.value == "review"
    return decision.id


async def test_every_admin_command_checks_who_asks(harness: Harness) -> None:
    # A walk of the whole tree the bot runs: an admin command without admin_only fails here.
    running = await harness.start()
    leaves = [c for c in running.bot.tree.walk_commands() if isinstance(c, app_commands.Command)]
    names = {c.qualified_name for c in leaves}
    assert {"pending", "explain", "list add", "policy reload", "pause", "stats"} <= names
    assert names >= MEMBER_COMMANDS
    for command in leaves:
        if command.qualified_name in MEMBER_COMMANDS:
            assert admin_only not in command.checks
            continue
        assert admin_only in command.checks, command.qualified_name
        top = command.root_parent or command
        assert top.default_permissions is not None, command.qualified_name


async def test_commands_refused_for_others_allowed_for_owner_and_delegates(
    harness: Harness, delegates: list[int], policy: Path
) -> None:
    await harness.start(policy)
    outsider = harness.world.member_ids[2]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("pending", {}),
        ("explain", {"member": outsider}),
        ("stats", {"period": "7d"}),
        ("list show", {"name": "known"}),
        ("policy show", {}),
        ("policy check", {}),
        ("policy reload", {}),
        ("pause", {}),
        ("resume", {}),
    ]
    for name, options in calls:
        _, text, data = await slash(harness, outsider, name, options)
        assert text == REFUSED, name
        assert data["flags"] & 64, name
        for user in (harness.world.owner_id, *delegates):
            _, text, _ = await slash(harness, user, name, options)
            assert text != REFUSED and "went wrong" not in text, (name, user, text)
    # refused: nothing was done
    _, text, _ = await slash(harness, outsider, "follow", {"member": outsider})
    assert text == REFUSED
    assert await harness.store.owner_actions_for(harness.guild_id, outsider) == []


async def test_review_approved_by_button_after_a_restart(harness: Harness) -> None:
    await harness.start()
    decision_id = await review_held(harness, "review_rita")
    ix, text, _ = await slash(harness, harness.world.owner_id, "pending")
    assert "review_rita" in text
    message_id = ix.original_message_id
    await harness.stop()
    await harness.start()
    click = await harness.standin.click(
        harness.world.general_channel_id,
        message_id,
        f"review:{decision_id}:approve",
        harness.world.owner_id,
    )
    answer = await click.wait_response()
    assert answer["type"] == 7  # the message refreshed in place
    assert "approved by" in answer["data"]["content"]
    user_id = (await harness.store.decision_member(decision_id))[1]
    await eventually(lambda: harness.has_role(user_id))
    (action,) = await harness.store.owner_actions_for(harness.guild_id, user_id)
    assert (action.action, action.actor_id) == ("approve", harness.world.owner_id)
    told = [e for e in harness.events if isinstance(e, OwnerActed)]
    assert [(e.action, e.actor_id, e.member) for e in told] == [
        ("approve", harness.world.owner_id, "review_rita")
    ]


async def test_double_and_concurrent_clicks_act_once(
    harness: Harness, delegates: list[int]
) -> None:
    await harness.start()
    decision_id = await review_held(harness, "review_dora")
    ix, _, _ = await slash(harness, harness.world.owner_id, "pending")
    channel, message = harness.world.general_channel_id, ix.original_message_id
    custom_id = f"review:{decision_id}:approve"
    clicks = await asyncio.gather(
        *(
            harness.standin.click(channel, message, custom_id, uid)
            for uid in (*delegates, *delegates)
        )
    )
    answers = [await c.wait_response() for c in clicks]
    user_id = (await harness.store.decision_member(decision_id))[1]
    await harness.idle()
    assert harness.role_puts(user_id) == 1
    actions = await harness.store.owner_actions_for(harness.guild_id, user_id)
    assert len(actions) == 1
    followups = [f for c in clicks for f in await _followups(c)]
    assert len(answers) == 4
    assert all(a["type"] == 7 for a in answers)  # every click refreshes the message
    assert all("approved by <@" in a["data"]["content"] for a in answers)
    assert sum("Already decided" in f["content"] for f in followups) == 3
    assert all(f"<@{actions[0].actor_id}>" in f["content"] for f in followups)


async def _followups(ix: Any) -> list[Any]:
    try:
        return list(await ix.wait_followups(1, timeout=1))
    except TimeoutError:
        return []


async def test_click_after_decided_by_command_says_already_decided(harness: Harness) -> None:
    await harness.start()
    decision_id = await review_held(harness, "review_carl")
    ix, _, _ = await slash(harness, harness.world.owner_id, "pending")
    user_id = (await harness.store.decision_member(decision_id))[1]
    _, text, _ = await slash(harness, harness.world.owner_id, "unfollow", {"member": user_id})
    assert "Unfollowed" in text
    click = await harness.standin.click(
        harness.world.general_channel_id,
        ix.original_message_id,
        f"review:{decision_id}:approve",
        harness.world.owner_id,
    )
    await click.wait_response()
    (told,) = await click.wait_followups(1)
    assert told["content"].startswith("Already decided: unfollowed by hand by <@")
    assert not harness.has_role(user_id)


def _command_puts(h: Harness) -> int:
    return len(
        h.standin.recorder.requests(
            "PUT", "/applications/{application_id}/guilds/{guild_id}/commands"
        )
    )


async def test_commands_synced_only_when_changed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.start()
    assert _command_puts(harness) == 1
    await harness.stop()
    await harness.start()
    assert _command_puts(harness) == 1  # unchanged: not synced again
    await harness.stop()
    extra = (*bot_module.EXTENSIONS, "tests.e2e.extra_commands")
    monkeypatch.setattr(bot_module, "EXTENSIONS", extra)
    await harness.start()
    assert _command_puts(harness) == 2  # a command changed: synced


async def test_policy_edits_announce_themselves(harness: Harness, policy: Path) -> None:
    await harness.start(policy, watch_policy=True, policy_watch_interval=0.05)
    owner = harness.world.owner_id
    before = harness.running.policies.current.version if harness.running else ""
    text = await asyncio.to_thread(policy.read_text)
    edited = text.replace("rules:\n", "rules:\n  - {name: oops, when: {bogus: 1}}\n", 1)
    await asyncio.to_thread(policy.write_text, edited)
    line = edited.splitlines().index("  - {name: oops, when: {bogus: 1}}") + 1
    await eventually(lambda: len(harness.standin.dms_to(owner)) >= 1)
    broken = harness.standin.dms_to(owner)[-1]["content"]
    assert "previous policy stays" in broken and f"policy.yaml:{line}:" in broken
    assert harness.running is not None and harness.running.policies.current.version == before
    await asyncio.to_thread(policy.write_text, text.replace('"^later_"', '"^late_"', 1))
    await eventually(lambda: len(harness.standin.dms_to(owner)) >= 2)
    summary = harness.standin.dms_to(owner)[-1]["content"]
    assert "changed" in summary and "late" in summary


async def test_list_add_keeps_the_files_comments(harness: Harness, policy: Path) -> None:
    await harness.start(policy)
    member = harness.world.member_ids[0]
    _, text, _ = await slash(
        harness, harness.world.owner_id, "list add", {"name": "known", "member": member}
    )
    assert text.startswith("Added")
    written = await asyncio.to_thread(policy.read_text)
    assert "# people I know in real life: keep this comment" in written
    assert "# an old friend" in written and str(member) in written
    assert member and harness.running is not None
    assert str(member) in harness.running.policies.current.lists["known"]
    _, text, _ = await slash(
        harness, harness.world.owner_id, "list add", {"name": "nope", "member": member}
    )
    assert "no list 'nope'" in text


async def test_pause_holds_the_outbox_across_a_restart(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.start()
    _, text, _ = await slash(harness, harness.world.owner_id, "pause")
    assert text.startswith("Paused")
    uid = await harness.join("fb_paula")
    await harness.decided(uid)
    await harness.stop()
    caplog.clear()
    await harness.start()
    assert "followback is PAUSED" in caplog.text  # said at start-up
    await asyncio.sleep(0.5)
    assert not harness.has_role(uid)  # still held
    _, text, _ = await slash(harness, harness.world.owner_id, "resume")
    assert text == "Resumed."
    await eventually(lambda: harness.has_role(uid))


async def test_follow_and_unfollow_by_a_delegate_are_recorded_as_theirs(
    harness: Harness, delegates: list[int]
) -> None:
    await harness.start()
    uid = await harness.join("quiet_quinn")
    await harness.decided(uid)
    delegate = delegates[1]
    _, text, _ = await slash(harness, delegate, "follow", {"member": uid})
    assert text.startswith("Following")
    await eventually(lambda: harness.has_role(uid))
    _, text, _ = await slash(harness, delegate, "unfollow", {"member": uid})
    await eventually(lambda: not harness.has_role(uid))
    actions = await harness.store.owner_actions_for(harness.guild_id, uid)
    assert [(a.action, a.actor_id) for a in actions] == [
        ("follow", delegate),
        ("unfollow", delegate),
    ]
    _, text, _ = await slash(harness, harness.world.owner_id, "explain", {"member": uid})
    assert "decision: decline" in text and "rule: decline silently" in text
    assert f"followed by hand by <@{delegate}>" in text
    assert f"unfollowed by hand by <@{delegate}>" in text


async def test_bad_input_gets_a_clear_ephemeral_answer(harness: Harness, policy: Path) -> None:
    await harness.start(policy)
    owner = harness.world.owner_id
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("follow", {"member": owner}, "is not a member the bot knows"),
        ("explain", {"member": owner}, "is not a member the bot knows"),
        ("list show", {"name": "knwon"}, "did you mean 'known'"),
        ("list remove", {"name": "known", "entry": "nobody"}, "'nobody' is not in the list"),
        ("stats", {"period": "fortnight"}, "write a duration such as 24h"),
    ]
    for name, options, expected in cases:
        _, text, data = await slash(harness, owner, name, options)
        assert expected in text, (name, text)
        assert data["flags"] & 64
        assert "Traceback" not in text
    assert "nobody" not in await asyncio.to_thread(policy.read_text)


async def test_unexpected_errors_are_short_ephemeral_answers(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = await harness.start()
    decision_id = await review_held(harness, "review_eve")
    ix, _, _ = await slash(harness, harness.world.owner_id, "pending")
    tools = running.bot.services.owner_tools
    assert tools is not None

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(tools.reviews, "decide", broken)
    monkeypatch.setattr(tools.stats, "over", broken)
    click = await harness.standin.click(
        harness.world.general_channel_id,
        ix.original_message_id,
        f"review:{decision_id}:approve",
        harness.world.owner_id,
    )
    answer = await click.wait_response()
    assert answer["data"]["content"] == FAILED and answer["data"]["flags"] & 64
    _, text, _ = await slash(harness, harness.world.owner_id, "stats")
    assert text == FAILED


async def test_autocomplete_offers_list_names_and_periods(harness: Harness, policy: Path) -> None:
    await harness.start(policy)
    h, owner = harness, harness.world.owner_id
    ix = await h.standin.autocomplete(
        h.guild_id, h.world.general_channel_id, owner, "list show", {"name": "kn"}, "name"
    )
    assert (await ix.wait_response())["data"]["choices"] == [{"name": "known", "value": "known"}]
    ix = await h.standin.autocomplete(
        h.guild_id, h.world.general_channel_id, owner, "stats", {"period": "d"}, "period"
    )
    values = [c["value"] for c in (await ix.wait_response())["data"]["choices"]]
    assert values == ["7d", "30d", "today", "yesterday"]


async def test_followback_status_for_members_only_when_the_policy_offers_it(
    harness: Harness, policy: Path
) -> None:
    await harness.start(policy)
    uid = await harness.join("review_ruth")
    await harness.decided(uid)
    _, text, data = await slash(harness, uid, "followback status")
    assert text == "This server does not offer that command." and data["flags"] & 64
    await harness.stop()
    offered = '\nstatus_command:\n  enabled: true\n  review: "Still deciding, {name}."\n'
    await asyncio.to_thread(lambda: policy.open("a").write(offered))
    await harness.start(policy)
    _, text, data = await slash(harness, uid, "followback status")
    assert text == "Still deciding, review_ruth." and data["flags"] & 64
    _, text, _ = await slash(harness, harness.world.owner_id, "follow", {"member": uid})
    await eventually(lambda: harness.has_role(uid))
    await harness.idle()
    _, text, _ = await slash(harness, uid, "followback status")
    assert text == "You're followed back, review_ruth."
