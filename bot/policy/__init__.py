"""The policy engine: pure, no Discord, no I/O besides reading the policy file.

policy = load_policy("policies/late-and-announced.yaml")   # or PolicyError
decision = decide(policy, member_facts, now)               # Decision, explained
match_words(rule, member_facts, now)  # why the rule matched: "account_age is 2d (under 7d)"
"""

from __future__ import annotations

from bot.policy.changes import PolicyChanges, diff_policies
from bot.policy.decision import Action, Decision, MentionAction, MentionDecision, Miss
from bot.policy.durations import format_duration, parse_duration
from bot.policy.engine import NO_RULE, decide, decide_mention, miss_words, window_fraction
from bot.policy.examples import ExampleResult, run_examples
from bot.policy.facts import MemberFacts, MentionFacts
from bot.policy.loader import load_policy, load_policy_text
from bot.policy.matched import match_words
from bot.policy.mentions import NoReply, no_reply_reason, text_rules
from bot.policy.model import (
    Example,
    Limits,
    Outcome,
    Owner,
    Policy,
    Replying,
    ReplyTemplate,
    Rule,
    render_reply,
)
from bot.policy.periods import Period, parse_period
from bot.policy.problems import PolicyError, Problem
from bot.policy.schema import policy_json_schema
from bot.policy.specs import EXAMPLE_NOW, SpecError, member_from_spec, mention_from_spec
from bot.policy.words import describe_changes

__all__ = [
    "EXAMPLE_NOW",
    "NO_RULE",
    "Action",
    "Decision",
    "Example",
    "ExampleResult",
    "Limits",
    "MemberFacts",
    "MentionAction",
    "MentionDecision",
    "MentionFacts",
    "Miss",
    "NoReply",
    "Outcome",
    "Owner",
    "Period",
    "Policy",
    "PolicyChanges",
    "PolicyError",
    "Problem",
    "ReplyTemplate",
    "Replying",
    "Rule",
    "SpecError",
    "decide",
    "decide_mention",
    "describe_changes",
    "diff_policies",
    "format_duration",
    "load_policy",
    "load_policy_text",
    "match_words",
    "member_from_spec",
    "mention_from_spec",
    "miss_words",
    "no_reply_reason",
    "parse_duration",
    "parse_period",
    "policy_json_schema",
    "render_reply",
    "run_examples",
    "text_rules",
    "window_fraction",
]
