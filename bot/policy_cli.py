"""`followback policy check | explain | simulate | schema`: the policy engine offline.

Exit codes: 0 all good, 1 a policy has problems or failing examples, 2 bad input
(unreadable member JSON, a database without a members table, ...). Output cut short
by its reader (`policy simulate ... | head -1`) ends quietly, without a traceback,
with exit code 1, as the top-level `followback` command does.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.policy import (
    Decision,
    ExampleResult,
    MemberFacts,
    Miss,
    Policy,
    PolicyError,
    Rule,
    SpecError,
    decide,
    decide_mention,
    format_duration,
    load_policy,
    match_words,
    member_from_spec,
    mention_from_spec,
    miss_words,
    policy_json_schema,
    run_examples,
)
from bot.policy.explaining import member_explanation
from bot.policy.lint import policy_warnings
from bot.policy.matchers import channel_shown
from bot.policy.mentions import no_reply_reason, text_rules
from bot.policy.words import no_reply_words


class InputError(Exception):
    """Bad input on the command line: reported on stderr, exit code 2."""


def run_policy_command(args: argparse.Namespace) -> int:
    try:
        code = _run(args)
        sys.stdout.flush()  # inside the try: a closed pipe must fail here, not at exit
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _quiet_stdout()
        return 1  # cut short, as bot.cli says too (and Python itself on EPIPE)
    return code


def _run(args: argparse.Namespace) -> int:
    if args.policy_command == "check":
        return check(args.files)
    if args.policy_command == "explain":
        return explain(
            args.file,
            args.member,
            args.now,
            mention=getattr(args, "mention", None),
            message_content=not getattr(args, "no_message_content", False),
        )
    if args.policy_command == "simulate":
        return simulate(args.file, args.members, args.history, args.now)
    if args.policy_command == "schema":
        print(json.dumps(policy_json_schema(), indent=2))
        return 0
    print(f"error: unknown policy command {args.policy_command!r}", file=sys.stderr)
    return 2


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot raise again (Python docs'
    recipe for SIGPIPE); without a real file descriptor (tests) there is nothing to do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _load(path: str) -> Policy | None:
    try:
        return load_policy(path)
    except PolicyError as exc:
        print(str(exc))
        print(f"{path}: {len(exc.problems)} problem(s)")
        return None


def check(files: list[str]) -> int:
    """Validate each file and run its examples; 0 only if every file is fine."""
    worst = 0
    for path in files:
        policy = _load(path)
        if policy is None:
            worst = 1
            continue
        results = run_examples(policy)
        failed = [r for r in results if r.failed]
        for result in failed:
            print(f"{path}: {result.describe()}")
        for warning in policy_warnings(policy):
            print(warning)  # FILE:LINE:COL: warning: ...; a hint, the exit code stays 0
        for note in notes(policy, results):
            print(f"{path}: note: {note}")
        if failed:
            print(f"{path}: {len(failed)} of {len(results)} example(s) failed")
            worst = 1
        else:
            rules = len(policy.rules) + len(policy.mentions)
            print(f"{path}: OK ({rules} rules, {len(results)} examples passed)")
    return worst


def notes(policy: Policy, results: list[ExampleResult]) -> list[str]:
    """Hints, not failures: rules no example reaches, DMs that can never be sent."""
    out = []
    reached = {(r.example.kind, r.rule) for r in results}
    for kind, rules in (("member", policy.rules), ("mention", policy.mentions)):
        missed = [r.name for r in rules if (kind, r.name) not in reached]
        if missed:
            out.append(f"no {kind} example reaches rule(s) {', '.join(map(repr, missed))}")
    reading = text_rules(policy)
    if reading:
        out.append(
            f"mention rule(s) {', '.join(map(repr, reading))} test the message text: they"
            " need the bot's MESSAGE_CONTENT intent (without it they cannot match)"
        )
    for rule in policy.rules:
        for name in (rule.then.reply, rule.then.notify):
            if name and not policy.replies[name].dm:
                out.append(
                    f"rule {rule.name!r} would message {name!r}, but that template has no"
                    " `dm: true`, so nothing will be sent"
                )
    return out


def _now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"--now: bad ISO time {text!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # naive means UTC


def _member_spec(text: str, flag: str = "--member") -> Any:
    source = text
    if not text.lstrip().startswith("{") and Path(text).is_file():
        source = Path(text).read_text(encoding="utf-8")  # --member may name a JSON file
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise InputError(f'{flag}: not JSON ({exc}); e.g. \'{{"name": "ada"}}\'') from exc


def _facts(spec: Any, now: datetime, where: str) -> MemberFacts:
    try:
        return member_from_spec(spec, now)
    except SpecError as exc:
        raise InputError(f"{where}: {exc}") from exc


def explain(
    path: str,
    member: str | None,
    now_text: str | None,
    mention: str | None = None,
    message_content: bool = True,
) -> int:
    """The decision for one member, its rule, its due time, and why earlier rules missed.

    `mention` (or a --member object with "text" or "author") is explained against the
    mentions rules instead; without `message_content` its text is unknown.
    """
    policy = _load(path)
    if policy is None:
        return 1
    now = _now(now_text)
    if mention is not None:
        return _explain_mention(policy, _member_spec(mention, "--mention"), now, message_content)
    if member is None:
        raise InputError("explain needs --member JSON or --mention JSON")
    spec = _member_spec(member)
    if isinstance(spec, dict) and ("text" in spec or "author" in spec):
        return _explain_mention(policy, spec, now, message_content)
    facts = _facts(spec, now, "--member")
    # The same lines as the live bot's /explain (bot.policy.explaining).
    for line in member_explanation(policy, facts, decide(policy, facts, now), now):
        print(line)
    return 0


def _explain_mention(policy: Policy, spec: Any, now: datetime, message_content: bool) -> int:
    try:
        mention = mention_from_spec(spec, now, message_content=message_content)
    except SpecError as exc:
        raise InputError(f"--mention: {exc}") from exc
    d = decide_mention(policy, mention, now)
    print(f"mention by: {mention.author.display_name} (id {mention.author.id})")
    if mention.channel_id or mention.channel_name:
        print(f"channel: {channel_shown(mention)}")
    if not mention.text_known:
        print("text: unknown (no message-content intent)")
    print(f"decision: {d.action.value}")
    print(f"rule: {d.rule}")
    _print_match(policy.mentions, d.rule, mention, now)
    if d.reply:
        print(f"reply: {d.reply} ({_reply_manner(policy, d.reply)})")
        blocked = no_reply_reason(policy, mention)
        if blocked is not None:
            print(no_reply_words(blocked, policy.replying.never_reply))
    _print_misses(d.misses)
    unreadable = text_rules(policy) if not mention.text_known else []
    if unreadable:
        names = ", ".join(map(repr, unreadable))
        print(f"rules that test text, unknown here (no message-content intent): {names}")
    print(f"policy: {policy.source} (version {d.policy_version})")
    return 0


def _reply_manner(policy: Policy, name: str) -> str:
    r = policy.replying
    wait = "at once" if not r.reply_after else f"after {format_duration(r.reply_after)}"
    manner = (
        f"a reply in the channel, {wait} unless the owner answers first;"
        f" at most one per person per {format_duration(policy.limits.reply_cooldown)}"
    )
    return manner + ("; silent" if policy.replies[name].silent else "")


def _dm(policy: Policy, decision: Decision) -> str | None:
    """The template this decision would send as a DM: only one with `dm: true` is sent."""
    for name in (decision.reply, decision.notify):
        if name and policy.replies[name].dm:
            return name
    return None


def _print_match(rules: tuple[Rule, ...], name: str, facts: Any, now: datetime) -> None:
    rule = next((r for r in rules if r.name == name), None)
    if rule is not None:  # None: no rule matched, and the misses say why
        print(f"matched: {match_words(rule, facts, now)}")


def _print_misses(misses: tuple[Miss, ...]) -> None:
    if misses:
        print("why not the earlier rules:")
        for miss in misses:
            print(f"  - {miss_words(miss)}")


def _jsonl(path: str, now: datetime) -> Iterator[MemberFacts]:
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise InputError(f"--members: cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                spec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not JSON ({exc})") from exc
            yield _facts(spec, now, f"{path}:{number}")


def _history(path: str) -> Iterator[MemberFacts]:
    """Followers from a Followback database (read-only; the SQL lives in the store)."""
    from bot.store.db import StoreError
    from bot.store.history import read_history

    try:
        yield from read_history(path)
    except StoreError as exc:
        raise InputError(f"--history: {exc}") from exc


def simulate(path: str, members: str | None, history: str | None, now_text: str | None) -> int:
    """One JSON decision per line on stdout, counts per action on stderr.

    Each line: id, name, action, rule, due, reply and notify (template names or
    null) and dm (true when that template goes out as a DM; false: nothing is sent).

    With --history and no --now, each follower is decided at the moment they joined,
    as the live bot would have: "what would this policy have done back then?".
    """
    policy = _load(path)
    if policy is None:
        return 1
    if (members is None) == (history is None):
        raise InputError("simulate needs exactly one of --members FILE.jsonl or --history DB")
    now = _now(now_text)
    source = _jsonl(members, now) if members else _history(history or "")
    counts: Counter[str] = Counter()
    for facts in source:
        at = now if now_text or members else (facts.joined_at or now)
        d = decide(policy, facts, at)
        counts[d.action.value] += 1
        row = {
            "id": str(facts.id),
            "name": facts.display_name,
            "action": d.action.value,
            "rule": d.rule,
            "due": d.due.isoformat() if d.due else None,
            "reply": d.reply,  # decline: the reply template (None: a silent decline)
            "notify": d.notify,  # later: the template announcing the late follow-back
            "dm": _dm(policy, d) is not None,  # reply/notify goes out as a DM (`dm: true`)
        }
        print(json.dumps(row, ensure_ascii=False))
    total = sum(counts.values())
    summary = ", ".join(f"{action} {n}" for action, n in counts.most_common()) or "nothing"
    print(f"{total} member(s): {summary} (policy version {policy.version})", file=sys.stderr)
    return 0
