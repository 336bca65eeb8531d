"""Whatever text comes in, loading ends in a Policy or a PolicyError with real positions."""

from __future__ import annotations

import os
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


def load_ok(text: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # problems are reported, never warned
            policy = load_policy_text(text, "fuzz.yaml")
    except PolicyError as exc:
        assert exc.problems, "a PolicyError must carry problems"
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1, problem
            assert problem.file == "fuzz.yaml" and problem.message
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
