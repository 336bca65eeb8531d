"""Load errors: right line, column and field path, every problem at once."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.policy import PolicyError, Problem, load_policy, load_policy_text

from .helpers import HEADER, POLICIES

# Line numbers below count from this text: HEADER is 9 lines, so `rules:` is line 10.
GOOD_RULES = """\
rules:
  - name: bots
    when: {bot: true}
    then: ignore
  - name: known
    when: {in_list: known}
    then: follow_back
  - name: everyone else
    then: {later: {between: [12h, 48h], notify: late_notice}}
"""


def problems(text: str) -> list[Problem]:
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "p.yaml")
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return info.value.problems


def only(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return str(found[0])


def test_good_policy_loads() -> None:
    policy = load_policy_text(HEADER + GOOD_RULES, "p.yaml")
    assert [r.name for r in policy.rules] == ["bots", "known", "everyone else"]
    assert policy.owner.timezone == "Europe/Berlin" and policy.owner.digest_at == time(9)
    assert policy.follow_back_role == "Mutuals" and policy.follower_role is None
    assert policy.lists["known"] == frozenset({"189234567890123456", "ada_l"})
    assert policy.replies["late_notice"].dm and not policy.replies["thank"].dm
    assert policy.limits.dms_per_day == 20 and policy.limits.dm_cooldown == timedelta(days=7)
    assert len(policy.version) == 12 and policy.source == "p.yaml"


def test_misspelt_decision_with_did_you_mean() -> None:
    text = HEADER + GOOD_RULES.replace("then: follow_back", "then: folow_back")
    assert only(text) == (
        "p.yaml:16:11: rules[1].then: unknown decision 'folow_back' (did you mean 'follow_back'?)"
    )


def test_missing_then() -> None:
    text = HEADER + GOOD_RULES.replace("    then: ignore\n", "")
    assert only(text) == "p.yaml:11:5: rules[0]: missing required key 'then'"


def test_bad_duration() -> None:
    text = HEADER + GOOD_RULES.replace("[12h, 48h]", "[12h, 48x]")
    assert only(text).startswith("p.yaml:18:35: rules[2].then.later.between[1]: bad duration '48x'")


def test_bad_regex_names_the_field() -> None:
    text = HEADER + GOOD_RULES.replace("{bot: true}", '{name_matches: "(?i)free (nitro"}')
    message = only(text)
    assert message.startswith("p.yaml:12:26: rules[0].when.name_matches: bad regular expression")
    assert "missing )" in message


def test_unknown_list() -> None:
    text = HEADER + GOOD_RULES.replace("in_list: known", "in_list: knwon")
    assert (
        only(text)
        == "p.yaml:15:21: rules[1].when.in_list: unknown list 'knwon' (did you mean 'known'?)"
    )


def test_unknown_reply() -> None:
    text = HEADER + GOOD_RULES.replace("notify: late_notice", "notify: late_notise")
    assert only(text) == (
        "p.yaml:18:49: rules[2].then.later.notify: unknown reply template 'late_notise'"
        " (did you mean 'late_notice'?)"
    )


def test_rule_after_catch_all() -> None:
    text = HEADER + GOOD_RULES + "  - name: too late\n    then: review\n"
    assert only(text) == (
        "p.yaml:19:5: rules[3]: rule 'too late' can never match:"
        " rule 'everyone else' (line 17) above it matches everyone"
    )


def test_unknown_keys_everywhere_with_suggestions() -> None:
    text = HEADER.replace("digest_at", "digest_time") + GOOD_RULES.replace(
        "when: {bot", "wehn: {bot"
    )
    found = [str(p) for p in problems(text)]
    assert (
        "p.yaml:2:34: owner.digest_time: unknown key 'digest_time' (did you mean 'digest_at'?)"
        in found
    )
    assert "p.yaml:12:5: rules[0].wehn: unknown key 'wehn' (did you mean 'when'?)" in found


def test_unknown_condition_fact() -> None:
    text = HEADER + GOOD_RULES.replace("{bot: true}", "{bots: true}")
    assert (
        only(text)
        == "p.yaml:12:12: rules[0].when.bots: unknown condition 'bots' (did you mean 'bot'?)"
    )


def test_yaml_syntax_error_has_position() -> None:
    text = HEADER + GOOD_RULES.replace("{bot: true}", "{bot: true")
    message = only(text)
    assert message.startswith("p.yaml:13:") and "YAML syntax error" in message


def test_every_problem_at_once_in_line_order() -> None:
    text = HEADER + (
        GOOD_RULES.replace("then: follow_back", "then: folow_back")
        .replace("[12h, 48h]", "[12h, 48x]")
        .replace("{bot: true}", "{bot: yes please}")
    )
    found = problems(text)
    assert [p.line for p in found] == [12, 16, 18]
    assert all(p.file == "p.yaml" and p.column >= 1 for p in found)


def test_duplicate_rule_names_and_keys() -> None:
    text = HEADER + GOOD_RULES.replace("name: known", "name: bots") + "rules: []\n"
    found = [str(p) for p in problems(text)]
    assert any("rules[1].name: duplicate rule name 'bots' (first at line 11)" in p for p in found)
    assert any("duplicate key 'rules' (first at line 10)" in p for p in found)


def test_reply_templates_are_checked() -> None:
    text = HEADER.replace("Thanks {name}, not this time.", "Hi {nmae}") + GOOD_RULES
    assert "unknown placeholder {nmae}" in only(text)
    text = HEADER.replace("Thanks {name}, not this time.", "Hi {name") + GOOD_RULES
    assert "broken braces" in only(text)


def test_bad_owner_fields() -> None:
    text = HEADER.replace("Europe/Berlin", "Mars/Olympus").replace('"09:00"', '"9am"') + GOOD_RULES
    found = [str(p) for p in problems(text)]
    assert any("owner.timezone: unknown timezone 'Mars/Olympus'" in p for p in found)
    assert any("owner.digest_at: expected a local time" in p for p in found)


def test_later_and_mention_decisions_validated() -> None:
    text = HEADER + GOOD_RULES.replace("then: ignore", "then: later")
    text += "mentions:\n  - name: m\n    then: {reply: nope}\n"
    found = [str(p) for p in problems(text)]
    assert any("rules[0].then: 'later' needs more, e.g. {later: 24h}" in p for p in found)
    assert any("mentions[0].then.reply: unknown reply template 'nope'" in p for p in found)


def test_mention_only_facts_rejected_in_follower_rules() -> None:
    text = HEADER + GOOD_RULES.replace("{bot: true}", '{text_matches: "hi"}')
    assert "'text_matches' only applies to mentions rules" in only(text)


def test_named_conditions_unknown_and_cyclic() -> None:
    text = (
        HEADER
        + "conditions:\n  a: {is: b}\n  b: {is: a}\n"
        + GOOD_RULES.replace("{bot: true}", "{is: a}").replace("{in_list: known}", "{is: c}")
    )
    found = [str(p) for p in problems(text)]
    assert any("refers to itself: a -> b -> a" in p for p in found)
    assert any("unknown named condition 'c'" in p for p in found)


def test_examples_checked_at_load() -> None:
    text = (
        HEADER
        + GOOD_RULES
        + (
            "examples:\n"
            "  - member: {name: x, acount_age: 2d}\n"
            "    expect: {rule: bots, action: ignore}\n"
            "  - member: {name: y}\n"
            "    expect: {rule: botz, action: ignore}\n"
        )
    )
    found = [str(p) for p in problems(text)]
    assert any("examples[0].member.acount_age: unknown member fact" in p for p in found)
    assert any(
        "examples[1].expect.rule: unknown rule 'botz' (did you mean 'bots'?)" in p for p in found
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the file is empty"),
        ("- a\n- b\n", "expected a mapping, not a list"),
        ("&a [*a]\n", "an alias refers to itself"),
        ("x: !!binary aGk=\n", "unsupported YAML tag"),
        ("x: " + "9" * 5000 + "\n", "number too long"),
        ("[" * 5000, ""),
        ("a: &x [1]\nb: *x\n" * 1, "unknown key"),
    ],
)
def test_hostile_documents_give_policy_errors(text: str, fragment: str) -> None:
    found = problems(text)
    assert found and all(p.line >= 1 for p in found)
    assert any(fragment in str(p) for p in found)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "nope.yaml")
    (problem,) = info.value.problems
    assert problem.line == 1 and "cannot read the policy file" in problem.message


def test_shipped_policies_load() -> None:
    for path in POLICIES.glob("*.yaml"):
        policy = load_policy(path)
        assert policy.rules and policy.examples, path
    default = load_policy(POLICIES / "late-and-announced.yaml")
    assert default.follow_back_role == "Mutuals"
    assert any(t.dm for t in default.replies.values()) and "decline_quiet" in default.replies


def test_unused_named_conditions_are_still_checked() -> None:
    text = HEADER + "conditions:\n  unused: {bto: true}\n" + GOOD_RULES
    assert only(text) == (
        "p.yaml:11:12: conditions.unused.bto: unknown condition 'bto' (did you mean 'bot'?)"
    )
