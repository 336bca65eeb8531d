"""The live /explain and `followback policy explain` say the same lines for one member."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bot.cli import main
from bot.policy import decide, load_policy, member_from_spec
from bot.policy.explaining import member_explanation
from tests.policy.helpers import POLICIES

NOW = "2025-01-01T12:00:00+00:00"


def test_the_cli_prints_exactly_the_shared_lines(capsys: pytest.CaptureFixture[str]) -> None:
    path = POLICIES / "late-and-announced.yaml"
    spec = {"name": "newcomer", "id": 42, "account_age": "30d"}
    assert main(["policy", "explain", str(path), "--member", json.dumps(spec), "--now", NOW]) == 0
    printed = capsys.readouterr().out.splitlines()
    now = datetime.fromisoformat(NOW)
    policy = load_policy(path)
    facts = member_from_spec(spec, now)
    shared = member_explanation(policy, facts, decide(policy, facts, now), now)
    assert printed == shared
    assert "decision: later" in shared and any(line.startswith("due: ") for line in shared)
