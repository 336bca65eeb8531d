"""The JSON Schema: valid, in step with the loader, and committed up to date."""

from __future__ import annotations

import json

import jsonschema
import pytest

from bot.policy import policy_json_schema
from bot.policy.yamltree import parse_tree

from .helpers import POLICIES

SCHEMA_FILE = POLICIES / "policy.schema.json"


def test_committed_schema_is_not_stale() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == policy_json_schema(), (
        "policies/policy.schema.json is stale; regenerate it with "
        "`followback policy schema > policies/policy.schema.json`"
    )


def test_schema_is_valid_draft_2020_12() -> None:
    schema = policy_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_policies_validate(path: object) -> None:
    root, problems = parse_tree(path.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    assert root is not None and not problems
    errors = list(jsonschema.Draft202012Validator(policy_json_schema()).iter_errors(root.plain()))
    assert not errors, [e.message for e in errors]


def test_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(policy_json_schema())
    base = {"follow_back": {"role": "Mutuals"}, "rules": [{"name": "a", "then": "ignore"}]}
    assert validator.is_valid(base)
    assert not validator.is_valid({**base, "rules": [{"name": "a", "then": "folow_back"}]})
    assert not validator.is_valid({**base, "rules": [{"name": "a"}]})
    assert not validator.is_valid({**base, "rules": [{"name": "a", "then": {"observe": "3x"}}]})
    assert not validator.is_valid({**base, "colour": "red"})
