"""`followback policy ...` through bot.cli.main, as the owner would run it."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main

POLICIES = Path(__file__).resolve().parent.parent / "policies"
DEFAULT = POLICIES / "late-and-announced.yaml"
NOW = "2025-01-01T12:00:00Z"


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


def test_check_all_shipped_policies(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in POLICIES.glob("*.yaml"))
    assert main(["policy", "check", *files]) == 0
    out = capsys.readouterr().out
    assert out.count(": OK (") == len(files) >= 4


def test_check_misspelt_decision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = broken_copy(tmp_path, "then: follow_back", "then: folow_back")
    assert main(["policy", "check", str(DEFAULT), str(path)]) == 1
    out = capsys.readouterr().out
    line = line_of(path, "folow_back")
    assert f"{path}:{line}:11: rules[3].then: unknown decision 'folow_back'" in out
    assert "(did you mean 'follow_back'?)" in out and f"{DEFAULT}: OK" in out


def test_check_missing_then(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = broken_copy(
        tmp_path, "    then: ignore                # nothing sent, still recorded\n", ""
    )
    assert main(["policy", "check", str(path)]) == 1
    line = line_of(path, "- name: bots")
    assert f"{path}:{line}:5: rules[0]: missing required key 'then'" in capsys.readouterr().out


def test_check_bad_duration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = broken_copy(tmp_path, "between: [12h, 48h]", "between: [12h, 2days]")
    assert main(["policy", "check", str(path)]) == 1
    out = capsys.readouterr().out
    line = line_of(path, "2days")
    assert (
        f"{path}:{line}:" in out and "rules[5].then.later.between[1]: bad duration '2days'" in out
    )


def test_check_failing_example_names_it_and_what_was_got(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = broken_copy(
        tmp_path,
        "expect: {rule: bots, action: ignore}",
        "expect: {rule: friends, action: follow_back}",
    )
    assert main(["policy", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "member 'helper-bot'" in out and "FAILED" in out
    assert "got rule 'bots', action ignore" in out and "1 of 14 example(s) failed" in out


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(tmp_path / "gone.yaml")]) == 1
    assert "gone.yaml:1:1: cannot read the policy file" in capsys.readouterr().out


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    member = json.dumps({"name": "newcomer", "id": 42, "account_age": "30d"})
    assert main(["policy", "explain", str(DEFAULT), "--member", member, "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "decision: later" in out and "rule: everyone else" in out
    assert "due: 2025-01-0" in out and "notify: late_notice" in out
    assert "rule 'bots' did not match: bot is false (needs true)" in out
    assert "rule 'already following' did not match: followed is false (needs true)" in out
    assert "rule 'follow-for-follow churn' did not match: churned is 0 (needs at least 2)" in out
    assert "version " in out


def test_explain_is_stable_and_matches_simulate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    member = {"name": "newcomer", "id": 42}
    main(["policy", "explain", str(DEFAULT), "--member", json.dumps(member), "--now", NOW])
    due_line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("due:"))
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text(json.dumps(member) + "\n", encoding="utf-8")
    main(["policy", "simulate", str(DEFAULT), "--members", str(jsonl), "--now", NOW])
    row = json.loads(capsys.readouterr().out)
    assert due_line.split()[1] == row["due"]


def test_explain_bad_member(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "explain", str(DEFAULT), "--member", "{nope"]) == 2
    assert "--member: not JSON" in capsys.readouterr().err
    assert main(["policy", "explain", str(DEFAULT), "--member", '{"nmae": "x"}']) == 2
    assert "did you mean 'name'" in capsys.readouterr().err


def test_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonl = tmp_path / "members.jsonl"
    rows = [{"name": "robo", "bot": True}, {"name": "ada_l"}, {}, {"name": "x", "churned": 2}]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert main(["policy", "simulate", str(DEFAULT), "--members", str(jsonl), "--now", NOW]) == 0
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert [(o["name"], o["action"], o["rule"]) for o in out] == [
        ("robo", "ignore", "bots"),
        ("ada_l", "follow_back", "friends"),
        ("someone", "later", "everyone else"),
        ("x", "decline", "follow-for-follow churn"),
    ]
    assert out[2]["due"] is not None and out[0]["due"] is None and out[0]["id"].isdigit()
    assert (
        "4 member(s): " in captured.err and "ignore 1" in captured.err and "later 1" in captured.err
    )


async def _history_db(path: Path) -> None:
    """A real bot database: two followers stored by the store itself."""
    from bot.store import JoinInput, Store, UserInfo

    joined = datetime(2024, 12, 1, 10, 0, tzinfo=UTC)
    created = datetime(2020, 1, 1, tzinfo=UTC)
    async with await Store.open(path) as store:
        robo = UserInfo(7, "robo", bot=True, created_at=created)
        pal = UserInfo(8, "pal", "Pal", created_at=created)
        await store.record_joins([JoinInput(1, robo, joined), JoinInput(1, pal, joined)], joined)
        await store.bump_activity(1, 8, messages=3)


def test_simulate_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "bot.db"
    asyncio.run(_history_db(db))
    assert main(["policy", "simulate", str(DEFAULT), "--history", str(db)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(o["id"], o["action"]) for o in out] == [("7", "ignore"), ("8", "later")]
    assert out[1]["due"].startswith("2024-12-0")  # decided as of when they joined


def test_simulate_history_without_members_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "empty.db"
    sqlite3.connect(db).close()
    assert main(["policy", "simulate", str(DEFAULT), "--history", str(db)]) == 2
    assert "is not a Followback database" in capsys.readouterr().err


def test_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    committed = json.loads((POLICIES / "policy.schema.json").read_text(encoding="utf-8"))
    assert schema == committed


def test_check_notes_unreached_rules_and_unsendable_dms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = broken_copy(
        tmp_path, "  late_notice:\n    dm: true\n", "  late_notice:\n    dm: false\n"
    )
    text = path.read_text(encoding="utf-8")
    path.write_text(text.split("\nexamples:")[0] + "\n", encoding="utf-8")
    assert main(["policy", "check", str(path)]) == 0  # notes are hints, not failures
    out = capsys.readouterr().out
    assert "note: no member example reaches rule(s) 'bots'," in out
    assert "note: rule 'everyone else' would message 'late_notice', but that template has no" in out


def test_explain_with_raw_times(capsys: pytest.CaptureFixture[str]) -> None:
    member = {
        "name": "fresh",
        "created_at": "2024-12-31T12:00:00+00:00",
        "joined_at": "2025-01-01T11:00:00Z",
        "churned": 2,
    }
    assert (
        main(["policy", "explain", str(DEFAULT), "--member", json.dumps(member), "--now", NOW]) == 0
    )
    out = capsys.readouterr().out
    assert "decision: decline" in out and "reply: decline_quiet" in out
    assert "rule: follow-for-follow churn" in out and "due:" not in out


def test_explain_a_mention(capsys: pytest.CaptureFixture[str]) -> None:
    mention = {"text": "great stream! follow me back?", "author": {"name": "fan"}}
    assert main(["policy", "explain", str(DEFAULT), "--member", json.dumps(mention)]) == 0
    out = capsys.readouterr().out
    assert "mention by: fan" in out and "decision: reply" in out
    assert "rule: asks for a follow-back" in out and "reply: late_follow_backs" in out
    assert "rule 'bots talking' did not match: bot is false (needs true)" in out


def test_simulate_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text('{"name": "ok"}\n{oops\n', encoding="utf-8")
    assert main(["policy", "simulate", str(DEFAULT), "--members", str(jsonl)]) == 2
    assert f"{jsonl}:2: not JSON" in capsys.readouterr().err
    assert main(["policy", "simulate", str(DEFAULT)]) == 2
    assert "exactly one of --members" in capsys.readouterr().err


def test_explain_a_name_test_reports_the_field_it_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "names.yaml"
    path.write_text(
        "follow_back: {role: Mutuals}\n"
        "rules:\n"
        "  - {name: official, when: {global_name_matches: '(?i)^official'}, then: decline}\n"
        "  - {name: numbered, when: {username_matches: '\\d{6,}$'}, then: decline}\n"
        "  - {name: rest, then: follow_back}\n",
        encoding="utf-8",
    )
    member = '{"name":"bob","global_name":null}'
    assert main(["policy", "explain", str(path), "--member", member, "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "global name is not set (needs to match '(?i)^official')" in out
    assert "username is 'bob' (needs to match" in out
    assert "global_name is 'bob'" not in out


def test_explain_says_why_the_rule_matched(capsys: pytest.CaptureFixture[str]) -> None:
    member = json.dumps({"name": "newbie", "account_age": "2d"})
    demo = POLICIES / "demo.yaml"
    assert main(["policy", "explain", str(demo), "--member", member, "--now", NOW]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:4] == ["rule: brand-new accounts", "matched: account_age is 2d (under 7d)"]


def test_explain_a_mention_says_why_it_matched(capsys: pytest.CaptureFixture[str]) -> None:
    mention = {"text": "great stream! follow me back?", "author": {"name": "fan"}}
    assert main(["policy", "explain", str(DEFAULT), "--member", json.dumps(mention)]) == 0
    assert "matched: text 'great stream! follow me back?' matches '(?i)follow" in (
        capsys.readouterr().out
    )


MESSAGES = """\
follow_back: {role: M}
replies:
  sorry: {dm: true, variants: ["Sorry {name}"]}
  unsent: ["never sent: no dm: true"]
  soon: {dm: true, variants: ["Soon, {name}"]}
rules:
  - {name: silent, when: {username_matches: '^silent'}, then: decline}
  - {name: told, when: {username_matches: '^told'}, then: {decline: {reply: sorry}}}
  - {name: unsent, when: {username_matches: '^unsent'}, then: {decline: {reply: unsent}}}
  - {name: late, then: {later: {after: 1d, notify: soon}}}
"""


def test_simulate_tells_a_silent_decline_from_a_dm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "messages.yaml"
    policy.write_text(MESSAGES, encoding="utf-8")
    jsonl = tmp_path / "m.jsonl"
    names = ["silent_1", "told_1", "unsent_1", "later_1"]
    jsonl.write_text("".join(json.dumps({"name": n}) + "\n" for n in names), encoding="utf-8")
    assert main(["policy", "simulate", str(policy), "--members", str(jsonl), "--now", NOW]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["action"], r["reply"], r["notify"], r["dm"]) for r in rows] == [
        ("decline", None, None, False),
        ("decline", "sorry", None, True),
        ("decline", "unsent", None, False),
        ("later", None, "soon", True),
    ]


def test_explain_says_whether_a_message_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "messages.yaml"
    policy.write_text(MESSAGES, encoding="utf-8")
    said = {}
    for name in ("silent_1", "told_1", "unsent_1", "later_1"):
        member = json.dumps({"name": name})
        assert main(["policy", "explain", str(policy), "--member", member, "--now", NOW]) == 0
        said[name] = capsys.readouterr().out
    assert "message: none (nothing is sent to the member)" in said["silent_1"]
    assert "reply: sorry (sent as a DM, within the DM limits)" in said["told_1"]
    assert "reply: unsent (not sent: the template has no `dm: true`)" in said["unsent_1"]
    assert "notify: soon (sent as a DM, within the DM limits)" in said["later_1"]


def test_check_warns_about_observing_again_and_still_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "again.yaml"
    path.write_text(
        "follow_back: {role: M}\n"
        "rules:\n"
        "  - {name: look first, when: {account_age: {under: 7d}}, then: {observe: 3d}}\n"
        "  - {name: engaged, when: {observed: true, messages: {at_least: 3}}, then: follow_back}\n"
        "  - {name: rest, then: review}\n",
        encoding="utf-8",
    )
    assert main(["policy", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}:3:5: warning: rules[0]: observe rule 'look first' can match" in out
    assert f"{path}: OK (3 rules" in out


def test_explain_unknown_fact_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.policy.specs import MEMBER_KEYS, MENTION_KEYS

    assert main(["policy", "explain", str(DEFAULT), "--member", '{"foo": 1}']) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    known = ", ".join(sorted(MEMBER_KEYS))
    assert captured.err == f"error: --member: foo: unknown member fact; known facts: {known}\n"
    mention = '{"text": "hi", "foo": 1}'
    assert main(["policy", "explain", str(DEFAULT), "--member", mention]) == 2
    err = capsys.readouterr().err
    assert (
        err.endswith(f"known facts: {', '.join(sorted(MENTION_KEYS))}\n") and err.count("\n") == 1
    )


@pytest.mark.parametrize(
    "command",
    [
        ["schema"],
        ["explain", str(DEFAULT), "--member", '{"name": "ada"}'],
        ["simulate", str(DEFAULT), "--members", "MEMBERS"],
        ["check", str(DEFAULT)],
    ],
)
def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path, command: list[str]) -> None:
    import subprocess
    import sys

    members = tmp_path / "m.jsonl"
    members.write_text('{"name": "ada"}\n' * 2000, encoding="utf-8")
    argv = [
        sys.executable,
        "-m",
        "bot",
        "policy",
        *(str(members) if c == "MEMBERS" else c for c in command),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written, as with `| head`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1, err  # cut short: not a success, but no traceback
    assert "Traceback" not in err and "BrokenPipeError" not in err


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize(
    "args",
    [
        argparse.Namespace(policy_command="schema"),
        argparse.Namespace(
            policy_command="explain", file=str(DEFAULT), member='{"name": "ada"}', now=NOW
        ),
        argparse.Namespace(policy_command="check", files=[str(DEFAULT)]),
    ],
)
def test_policy_commands_end_quietly_on_a_closed_pipe_by_themselves(
    monkeypatch: pytest.MonkeyPatch, args: argparse.Namespace
) -> None:
    from bot.policy_cli import run_policy_command

    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert run_policy_command(args) == 1  # no BrokenPipeError escapes, whoever calls it


def test_explain_mention_flag_without_message_content(capsys: pytest.CaptureFixture[str]) -> None:
    spec = {"text": "Follow me back?", "author": {"name": "fan"}, "channel": "general"}
    args = ["policy", "explain", str(DEFAULT), "--mention", json.dumps(spec), "--now", NOW]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "rule: asks for a follow-back" in out and "channel: #general" in out
    assert main([*args, "--no-message-content"]) == 0
    out = capsys.readouterr().out
    assert "text: unknown (no message-content intent)" in out
    assert "rule: everyone else" in out
    assert (
        "rule 'asks for a follow-back' did not match: text unknown (no message-content"
        " intent), so text_matches:" in out
    )
    assert "rules that test text, unknown here (no message-content intent):" in out


def test_explain_mention_with_null_text_and_a_never_reply_author(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = {"text": None, "author": {"name": "grumpy_gus"}}
    assert main(["policy", "explain", str(DEFAULT), "--mention", json.dumps(spec)]) == 0
    out = capsys.readouterr().out
    assert "text: unknown (no message-content intent)" in out
    assert "reply: thank (a reply in the channel, after 2m unless the owner answers first" in out
    assert "no reply is sent: the author is in the never-reply list 'no_auto_replies'" in out


def test_explain_needs_member_or_mention(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["policy", "explain", str(DEFAULT)])
    capsys.readouterr()


def test_check_notes_rules_that_need_the_message_content_intent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policy", "check", str(DEFAULT)]) == 0
    out = capsys.readouterr().out
    assert (
        "note: mention rule(s) 'asks for a follow-back' test the message text: they need"
        " the bot's MESSAGE_CONTENT intent" in out
    )
