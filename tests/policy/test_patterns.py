"""Policy patterns are RE2: no name or message can make matching slow."""

from __future__ import annotations

import time

import pytest

from bot.policy import PolicyError, decide, decide_mention, load_policy_text, mention_from_spec
from bot.policy.patterns import PatternError, compile_regex, compile_wildcards, glob_to_re2

from .helpers import HEADER, NOW, make_policy, member

# Each of these takes Python's `re` seconds to centuries (exponential backtracking).
CATASTROPHIC = [
    ("(a+)+$", "a" * 30 + "!", "rest"),
    ("(a+)+$", "a" * 10_000 + "!", "rest"),
    ("(a|aa)+$", "a" * 40 + "!", "rest"),
    ("(a*)*b", "a" * 10_000, "rest"),
    ("(x+x+)+y", "x" * 10_000, "rest"),
    ("^(\\w+\\s?)*$", "ab " * 3_000 + "!", "rest"),
    ("(a+)+$", "!" + "a" * 10_000, "odd"),
]


def _timed(fn: object, *args: object) -> tuple[object, float]:
    start = time.perf_counter()
    result = fn(*args)  # type: ignore[operator]
    return result, time.perf_counter() - start


@pytest.mark.parametrize(("pattern", "name", "rule"), CATASTROPHIC)
def test_catastrophic_regex_is_fast_and_right(pattern: str, name: str, rule: str) -> None:
    policy = make_policy(
        f"""
        - name: odd
          when: {{name_matches: '{pattern}'}}
          then: decline
        - name: rest
          then: follow_back
        """
    )
    decision, took = _timed(decide, policy, member(name=name, global_name=name), NOW)
    assert took < 0.5, (pattern, len(name), took)
    assert decision.rule == rule  # type: ignore[attr-defined]


def test_catastrophic_regex_still_matches_what_it_should() -> None:
    policy = make_policy(
        "- {name: odd, when: {username_matches: '(a+)+$'}, then: decline}\n"
        "- {name: rest, then: follow_back}"
    )
    decision, took = _timed(decide, policy, member(name="b" + "a" * 10_000), NOW)
    assert took < 0.5 and decision.rule == "odd"


def test_long_message_against_a_text_rule_is_fast() -> None:
    policy = make_policy(
        "- {name: rest, then: follow_back}",
        extra="mentions:\n"
        "  - {name: spam, when: {text_matches: '(a|aa)+$'}, then: ignore}\n"
        "  - {name: other, then: notify}\n",
    )
    text = "a" * 10_000 + "!"
    mention = mention_from_spec({"text": text, "author": {"name": "x"}}, NOW)
    decision, took = _timed(decide_mention, policy, mention, NOW)
    assert took < 0.5 and decision.rule == "other"


def test_wildcards_are_linear_too() -> None:
    policy = make_policy(
        "- {name: nitro, when: {name_like: ['*a*a*a*a*a*a*a*a*a*a*b']}, then: decline}\n"
        "- {name: rest, then: follow_back}"
    )
    decision, took = _timed(decide, policy, member(name="a" * 10_000), NOW)
    assert took < 0.5 and decision.rule == "rest"


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        ("(\\w)\\1", "backreference"),
        ("free(?= nitro)", "lookahead"),
        ("(?<!x)nitro", "lookbehind"),
        ("(?>a+)b", "atomic group"),
        ("nitro\\Z", "\\Z"),
    ],
)
def test_pattern_re2_cannot_take_is_a_load_error_with_a_hint(pattern: str, what: str) -> None:
    text = (
        HEADER
        + f"rules:\n  - name: r\n    when: {{name_matches: '{pattern}'}}\n    then: decline\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "p.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (12, 26), what
    assert problem.path == "rules[0].when.name_matches"
    assert "linear time" in problem.message and "lookahead" in problem.message


def test_re2_error_is_not_logged_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PatternError):
        compile_regex("a(?=b)")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    ("glob", "yes", "no"),
    [
        ("*free*nitro*", ["FREE Nitro now", "x\nfree nitro"], ["nitro free"]),
        ("bot-??", ["bot-12", "BOT-ab"], ["bot-1", "bot-123"]),
        ("[!a]*", ["bob"], ["ada", ""]),
        ("[ab]c", ["ac", "Bc"], ["cc"]),
        ("[]x]", ["]", "x"], ["y"]),
        ("a[", ["a["], ["a"]),
        ("a.b+(c)", ["a.b+(c)"], ["axb+(c)", "a.bb(c)"]),
        ("\\", ["\\"], ["x"]),
    ],
)
def test_wildcards_mean_what_fnmatch_means(glob: str, yes: list[str], no: list[str]) -> None:
    match = compile_wildcards([glob])
    assert [match(s) for s in yes] == [True] * len(yes), glob_to_re2(glob)
    assert [match(s) for s in no] == [False] * len(no), glob_to_re2(glob)


def test_regex_flags_and_unicode() -> None:
    assert compile_regex("(?i)^école")("ÉCOLE du soir")
    assert compile_regex("\\bmod\\b")("the mod team")
    assert not compile_regex("^mod$")("the mod team")
