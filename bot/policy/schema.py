"""The JSON Schema (draft 2020-12) of a policy file, for editors and CI.

Kept in step with the loader by tests: every example policy must validate, and
policies/policy.schema.json must equal policy_json_schema().
"""

from __future__ import annotations

from typing import Any

from bot.policy.model import WEEKDAYS, EmptyDigest
from bot.policy.replying import MAX_BUDGET, MAX_PAGES
from bot.policy.specs import MEMBER_KEYS
from bot.policy.vocab import AGE_OPS, BOOL_FACTS, COUNT_FACTS, COUNT_OPS, NAME_FACTS

DURATION = r"^\s*(\d{1,9}\s*[wdhmsWDHMS]\s*)+$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _closed(
    props: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    out.update(extra)
    return out


def _one_key(name: str, value: Any) -> dict[str, Any]:
    return _closed({name: value}, [name])


def _condition(mention: bool) -> dict[str, Any]:
    me = "mention_condition" if mention else "condition"
    count = {"oneOf": [{"type": "integer"}, {"type": "boolean"}, _ref("comparison")]}
    props: dict[str, Any] = {
        "all": {"type": "array", "items": _ref(me), "minItems": 1},
        "any": {"type": "array", "items": _ref(me), "minItems": 1},
        "not": _ref(me),
        "is": {"type": "string", "description": "a named condition from `conditions:`"},
        **{f: {"type": "boolean"} for f in BOOL_FACTS},
        **{f: count for f in COUNT_FACTS},
        "account_age": _ref("age"),
        "in_server": _ref("age"),
        **{f: _ref("patterns") for f in NAME_FACTS},
        "name_like": _ref("patterns"),
        "roles": {
            "oneOf": [
                _ref("names"),
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {k: _ref("names") for k in ("any", "all", "none")},
                    "additionalProperties": False,
                },
            ]
        },
        "has_role": {"oneOf": [_ref("id_or_name"), _ref("names")]},
        "in_list": {"type": "string"},
        "surge": _closed(
            {"joins": _ref("comparison"), "within": _ref("duration")}, ["joins", "within"]
        ),
    }
    if mention:
        props.update(
            text_matches=_ref("patterns"),
            mentions_owner={"type": "boolean"},
            mentions_bot={"type": "boolean"},
            replies_to_owner={"type": "boolean"},
            channel={
                "oneOf": [_ref("id_or_name"), _ref("names")],
                "description": "the channel (or the channel a thread is in), by name or id",
            },
        )
    return {"oneOf": [_closed(props, minProperties=1), {"type": "string"}]}


def _rule(condition: str, then: str) -> dict[str, Any]:
    return _closed(
        {"name": {"type": "string", "minLength": 1}, "when": _ref(condition), "then": _ref(then)},
        ["name", "then"],
    )


def _replying() -> dict[str, Any]:
    return _closed(
        {
            "reply_after": {
                **_ref("duration"),
                "description": "wait before answering (0s: at once)",
            },
            "channel_budget": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_BUDGET,
                "description": "at most this many auto-replies per channel per hour",
            },
            "never_reply": {"type": "string", "description": "a list from `lists:`"},
            "catch_up": {
                "oneOf": [
                    _ref("duration"),
                    _closed(
                        {
                            "within": _ref("duration"),
                            "pages": {"type": "integer", "minimum": 0, "maximum": MAX_PAGES},
                        }
                    ),
                ],
                "description": "at start, mentions missed while offline, how far back",
            },
            "reply_max_age": {
                **_ref("duration"),
                "description": "older mentions found at start are listed, not answered",
            },
        }
    )


def _member() -> dict[str, Any]:
    props: dict[str, Any] = {k: {} for k in MEMBER_KEYS}
    props.update(
        name={"type": "string"},
        id={"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\d+$"}]},
        username={"type": "string"},
        global_name={"type": ["string", "null"]},
        nick={"type": ["string", "null"]},
        account_age=_ref("duration"),
        in_server=_ref("duration"),
        created_at={"type": "string", "format": "date-time"},
        joined_at={"type": "string", "format": "date-time"},
        roles={"type": "array", "items": _ref("id_or_name")},
        recent_joins={
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "array", "items": _ref("duration")},
            ]
        },
    )
    props.update({f: {"type": "boolean"} for f in BOOL_FACTS})
    props.update({f: {"type": "integer", "minimum": 0} for f in COUNT_FACTS})
    return _closed(props)


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file (draft 2020-12)."""
    template = {"type": "string", "minLength": 1}
    decision_member = {
        "oneOf": [
            {"enum": ["follow_back", "review", "ignore", "decline"]},
            _one_key("follow_back", {"type": "null"}),
            _one_key("review", {"type": "null"}),
            _one_key("ignore", {"type": "null"}),
            _one_key("decline", {"oneOf": [{"type": "null"}, _closed({"reply": template})]}),
            _one_key("observe", _ref("duration")),
            _one_key(
                "later",
                {
                    "oneOf": [
                        _ref("duration"),
                        _closed({"after": _ref("duration"), "notify": template}, ["after"]),
                        _closed(
                            {
                                "between": {
                                    "type": "array",
                                    "items": _ref("duration"),
                                    "minItems": 2,
                                    "maxItems": 2,
                                },
                                "notify": template,
                            },
                            ["between"],
                        ),
                    ]
                },
            ),
        ]
    }
    decision_mention = {
        "oneOf": [
            {"enum": ["notify", "ignore", "thank"]},
            _one_key("reply", template),
            _one_key("notify", {"type": "null"}),
            _one_key("ignore", {"type": "null"}),
        ]
    }
    texts = {"type": "array", "items": {"type": "string"}, "minItems": 1}
    reply = {
        "oneOf": [
            texts,
            {"type": "string"},
            _closed(
                {"dm": {"type": "boolean"}, "silent": {"type": "boolean"}, "variants": texts},
                ["variants"],
            ),
        ]
    }
    expect = _closed(
        {"rule": {"type": "string"}, "action": {"type": "string"}, "reply": {"type": "string"}},
        minProperties=1,
    )
    mention_spec = _closed(
        {
            "text": {
                "type": ["string", "null"],
                "description": "null: unknown (the bot lacks the message-content intent)",
            },
            "author": _ref("member"),
            "mentions_owner": {"type": "boolean"},
            "mentions_bot": {"type": "boolean"},
            "replies_to_owner": {"type": "boolean"},
            "channel": _ref("id_or_name"),
            "thread_of": _ref("id_or_name"),
        }
    )
    example = {
        "oneOf": [
            _closed({"member": _ref("member"), "expect": expect}, ["member", "expect"]),
            _closed({"mention": mention_spec, "expect": expect}, ["mention", "expect"]),
        ]
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://followback.invalid/policy.schema.json",
        "title": "Followback policy",
        "description": "One person's follow policy: who gets followed back, when, and how.",
        "type": "object",
        "required": ["follow_back", "rules"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1},
            "owner": _closed(
                {
                    "timezone": {"type": "string", "description": "IANA name, e.g. Europe/Berlin"},
                    "digest_at": {"type": "string", "pattern": r"^\d{1,2}:\d{2}$"},
                    "digest_days": {
                        "type": "array",
                        "items": {"enum": list(WEEKDAYS)},
                        "minItems": 1,
                        "description": "days with a digest (default: every day)",
                    },
                    "digest_when_empty": {
                        "enum": [e.value for e in EmptyDigest],
                        "description": "a day with nothing pending: no message, or one line",
                    },
                    "cleanup_after": {
                        **_ref("duration"),
                        "description": "digest clean-up: followed back this long ago, silent",
                    },
                    "name": {"type": "string", "description": "how replies say {owner}"},
                }
            ),
            "follow_back": _closed({"role": _ref("id_or_name")}, ["role"]),
            "follower_role": {"oneOf": [_ref("id_or_name"), {"type": "null"}]},
            "lists": {
                "type": "object",
                "additionalProperties": {"oneOf": [_ref("names"), {"type": "null"}]},
            },
            "conditions": {"type": "object", "additionalProperties": _ref("condition")},
            "replies": {"type": "object", "additionalProperties": reply},
            "rules": {"type": "array", "items": _rule("condition", "decision"), "minItems": 1},
            "mentions": {
                "type": ["array", "null"],
                "items": _rule("mention_condition", "mention_decision"),
            },
            "replying": _replying(),
            "status_command": _closed(
                {
                    "enabled": {
                        "type": "boolean",
                        "description": "offer members /followback status (off by default)",
                    },
                    **{
                        key: {"type": "string", "description": "may use {name} and {due}"}
                        for key in ("followed", "later", "review", "nothing")
                    },
                }
            ),
            "limits": _closed(
                {
                    "dms_per_day": {"type": "integer", "minimum": 0, "maximum": 10000},
                    "dm_spacing": _ref("duration"),
                    "dm_cooldown": _ref("duration"),
                    "reply_cooldown": _ref("duration"),
                }
            ),
            "examples": {"type": ["array", "null"], "items": example},
        },
        "$defs": {
            "duration": {
                "type": "string",
                "pattern": DURATION,
                "examples": ["30s", "90m", "12h", "7d", "1d12h"],
            },
            "id_or_name": {
                "oneOf": [{"type": "string", "minLength": 1}, {"type": "integer", "minimum": 0}]
            },
            "names": {"type": "array", "items": _ref("id_or_name")},
            "patterns": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}},
                ]
            },
            "comparison": _closed({op: {"type": "integer"} for op in COUNT_OPS}, minProperties=1),
            "age": _closed({op: _ref("duration") for op in AGE_OPS}, minProperties=1),
            "condition": _condition(mention=False),
            "mention_condition": _condition(mention=True),
            "decision": decision_member,
            "mention_decision": decision_mention,
            "member": _member(),
        },
    }
