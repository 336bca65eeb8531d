"""Small builders shared by the policy tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.policy import EXAMPLE_NOW, MemberFacts, Policy, load_policy_text, member_from_spec

NOW = EXAMPLE_NOW
POLICIES = Path(__file__).resolve().parents[2] / "policies"

HEADER = """\
version: 1
owner: {timezone: Europe/Berlin, digest_at: "09:00"}
follow_back: {role: Mutuals}
lists:
  known: [189234567890123456, ada_l]
replies:
  decline_quiet: ["Thanks {name}, not this time."]
  late_notice: {dm: true, variants: ["Hi {name}, around {due}."]}
  thank: ["Thanks {name}!", "Cheers {name}!"]
"""


def make_policy(rules: str, extra: str = "") -> Policy:
    """A policy with the standard header and the given `rules:` body (YAML, indented freely)."""
    body = textwrap.dedent(rules).strip("\n")
    text = HEADER + "rules:\n" + textwrap.indent(body, "  ") + "\n" + textwrap.dedent(extra)
    return load_policy_text(text, "test.yaml")


def member(**spec: object) -> MemberFacts:
    spec.setdefault("name", "someone")
    return member_from_spec(spec, NOW)
