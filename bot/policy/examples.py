"""Run the examples written inside a policy file: a policy tested like code."""

from __future__ import annotations

from dataclasses import dataclass

from bot.policy.engine import decide, decide_mention
from bot.policy.model import Example, Policy
from bot.policy.specs import EXAMPLE_NOW


@dataclass(frozen=True, slots=True)
class ExampleResult:
    example: Example
    ok: bool
    rule: str  # what the policy actually decided
    action: str
    reply: str | None = None

    @property
    def failed(self) -> bool:
        return not self.ok

    def describe(self) -> str:
        """One line: which example, what it expected and what the policy decided."""
        ex = self.example
        want = f"rule {ex.rule!r}" if ex.rule else "any rule"
        want += f", action {ex.action}" if ex.action else ""
        want += f", reply {ex.reply}" if ex.reply else ""
        got = f"rule {self.rule!r}, action {self.action}" + (
            f", reply {self.reply}" if self.reply else ""
        )
        verdict = "ok" if self.ok else "FAILED"
        return f"{ex.label}: {verdict}: expected {want}; got {got}"


def run_examples(policy: Policy) -> list[ExampleResult]:
    """Decide every example at EXAMPLE_NOW and compare with what it expects."""
    results = []
    for ex in policy.examples:
        if ex.kind == "member":
            d = decide(policy, ex.facts, EXAMPLE_NOW)
            rule, action, reply = d.rule, d.action.value, d.reply
        else:
            m = decide_mention(policy, ex.facts, EXAMPLE_NOW)
            rule, action, reply = m.rule, m.action.value, m.reply
        ok = (
            (ex.rule is None or ex.rule == rule)
            and (ex.action is None or ex.action == action)
            and (ex.reply is None or ex.reply == reply)
        )
        results.append(ExampleResult(ex, ok, rule, action, reply))
    return results
