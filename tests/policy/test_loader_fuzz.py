"""Whatever text comes in, loading ends in a Policy or a PolicyError with real positions."""

from __future__ import annotations

import os
import re
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.policy import Policy, PolicyError, load_policy_text

from .helpers import POLICIES

SOURCES = [p.read_text(encoding="utf-8") for p in sorted(POLICIES.glob("*.yaml"))]
# FUZZ_EXAMPLES=5000 pytest tests/policy/test_loader_fuzz.py for a long run.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

WORDS = [
    "rules",
    "then",
    "when",
    "name",
    "follow_back",
    "later",
    "observe",
    "decline",
    "between",
    "all",
    "any",
    "not",
    "is",
    "bot",
    "messages",
    "at_least",
    "7d",
    "x",
    "[",
    "]",
    "{",
    "}",
    "- ",
    ": ",
    "&a",
    "*a",
    "!!binary",
    "null",
    "true",
    "1e9",
    "-1",
    "'",
    '"',
    "\t",
    "\n",
    "    ",
    "9" * 30,
    "(?i)(",
    "{name",
    "surge",
    "<<",
    "---",
    "...",
    "%YAML 1.1",
]


# A Python repr of a dict or list: "{'for': ..." or "['1d', ...", after a space or "(".
REPR = re.compile(r"(?:^|[\s(])[\[{]'")


def assert_plain(message: str, strict: bool) -> None:
    """A user's error never shows the loader's insides: no nodes, no Python reprs, no bugs."""
    assert "Node(" not in message, message
    assert "internal error" not in message, message
    if strict:  # the text is ours, so any dict or list repr came from the loader
        assert not REPR.search(message), message


def load_ok(text: str, strict: bool = False) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # problems are reported, never warned
            policy = load_policy_text(text, "fuzz.yaml")
    except PolicyError as exc:
        assert exc.problems, "a PolicyError must carry problems"
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1, problem
            assert problem.file == "fuzz.yaml" and problem.message
            assert_plain(problem.message, strict)
    else:
        assert isinstance(policy, Policy)


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    load_ok(text)


@FUZZ
@given(st.lists(st.sampled_from(WORDS), max_size=60).map("".join))
def test_random_yaml_ish_text(text: str) -> None:
    load_ok(text)


@st.composite
def mutated_policy(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SOURCES)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "swap", "key", "type", "dup", "indent", "value"]))
        if how == "delete":
            del lines[i]
        elif how == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            a, b = lines[i].partition(":"), lines[j].partition(":")
            lines[i], lines[j] = a[0] + a[1] + b[2], b[0] + b[1] + a[2]
        elif how == "key":
            key = draw(st.sampled_from([*WORDS, "colour", "thne", "wehn", "bots", "known"]))
            lines.insert(i, lines[i][: len(lines[i]) - len(lines[i].lstrip())] + f"{key}: 1")
        elif how == "type":
            head, sep, _ = lines[i].partition(": ")
            value = draw(
                st.sampled_from(["[]", "{}", "null", "42", "true", "'7d'", "[a, b]", "{x: 1}"])
            )
            lines[i] = head + (sep or ": ") + value
        elif how == "dup":
            lines.insert(i, lines[i])
        elif how == "indent":
            lines[i] = draw(st.sampled_from(["", "  ", "      "])) + lines[i].lstrip()
        else:
            head, sep, _ = lines[i].partition(": ")
            lines[i] = head + (sep or ": ") + draw(st.sampled_from(WORDS))
    return "\n".join(lines) + "\n"


@FUZZ
@given(mutated_policy())
def test_mutated_real_policies(text: str) -> None:
    load_ok(text)


def test_unmutated_policies_load() -> None:
    for text in SOURCES:
        assert isinstance(load_policy_text(text), Policy)


# Every place that takes a duration, a number, a yes/no or a name, given every shape.
SLOTS = [
    "rules:\n  - {name: a, when: {account_age: {under: %s}}, then: follow_back}",
    "rules:\n  - {name: a, when: {in_server: %s}, then: follow_back}",
    "rules:\n  - {name: a, when: {messages: {at_least: %s}}, then: follow_back}",
    "rules:\n  - {name: a, when: {messages: %s}, then: follow_back}",
    "rules:\n  - {name: a, when: {bot: %s}, then: follow_back}",
    "rules:\n  - {name: a, when: {surge: {joins: {at_least: 3}, within: %s}}, then: review}",
    "rules:\n  - {name: a, when: {name_matches: %s}, then: decline}",
    "rules:\n  - {name: a, when: {name_like: %s}, then: decline}",
    "rules:\n  - {name: a, when: {in_list: %s}, then: decline}",
    "rules:\n  - {name: a, when: {has_role: %s}, then: decline}",
    "rules:\n  - {name: a, then: {observe: %s}}",
    "rules:\n  - {name: a, then: {later: %s}}",
    "rules:\n  - {name: a, then: {later: {after: %s}}}",
    "rules:\n  - {name: a, then: {later: {between: %s}}}",
    "rules:\n  - {name: a, then: {later: {between: [1d, %s]}}}",
    "rules:\n  - {name: a, then: {decline: {reply: %s}}}",
    "rules:\n  - {name: a, then: %s}",
    "rules:\n  - {name: a, when: %s, then: review}",
    "owner: {digest_at: %s}\nrules:\n  - {name: a, then: review}",
    "owner: {timezone: %s}\nrules:\n  - {name: a, then: review}",
    "limits: {dm_spacing: %s}\nrules:\n  - {name: a, then: review}",
    "limits: {dms_per_day: %s}\nrules:\n  - {name: a, then: review}",
    "rules:\n  - {name: a, then: review}\nexamples:\n  - {member: {account_age: %s}, expect: {}}",
    "rules:\n  - {name: a, then: review}\nexamples:\n  - {member: {name: x}, expect: {rule: %s}}",
    "rules:\n  - {name: %s, then: review}",
]
SHAPES = [
    "{for: 1d}",
    "[1d, 2d]",
    "[1d]",
    "{}",
    "[]",
    "{a: {b: [1]}}",
    "null",
    "true",
    "3",
    "-1",
    "1.5",
    "'x'",
    "[{a: 1}]",
    "{'q': 'r'}",
    "['q']",
    "1d",
]


def test_every_shape_in_every_slot_gives_a_plain_message() -> None:
    for slot in SLOTS:  # all of them: 400 small loads take well under a second
        for shape in SHAPES:
            load_ok("follow_back: {role: M}\nreplies: {r: [hi]}\n" + slot % shape + "\n", True)


def test_durations_given_the_wrong_shape_say_so_plainly() -> None:
    cases = {
        "rules:\n  - {name: a, then: {observe: {for: 1d}}}": "got a mapping; write {observe: 3d}",
        "rules:\n  - {name: a, then: {later: [1d, 2d]}}": "got a list; write {later: 24h} or",
        "rules:\n  - {name: a, when: {account_age: {under: [1d]}}, then: review}": "got a list",
    }
    for slot, words in cases.items():
        try:
            load_policy_text("follow_back: {role: M}\n" + slot + "\n", "fuzz.yaml")
        except PolicyError as exc:
            (problem,) = exc.problems
            assert "expected a duration like 3d, " + words in problem.message, problem
        else:
            raise AssertionError(slot)
