"""Reply templates: variants in turn, placeholders filled, never a mass ping."""

from __future__ import annotations

from bot.policy import ReplyTemplate, render_reply
from bot.policy.model import template_problem

THANK = ReplyTemplate(
    "thank", ("Thanks, {name}!", "Cheers {name}, see you {due}. {owner}"), dm=False
)


def test_variant_picked_in_turn() -> None:
    assert render_reply(THANK, 0, name="Ada") == "Thanks, Ada!"
    assert render_reply(THANK, 1, name="Ada", due="tomorrow", owner="Mo") == (
        "Cheers Ada, see you tomorrow. Mo"
    )
    assert render_reply(THANK, 2, name="Ada") == "Thanks, Ada!"  # wraps around


def test_missing_values_render_empty_and_names_cannot_ping() -> None:
    assert render_reply(THANK, 1, name="x") == "Cheers x, see you . "
    out = render_reply(THANK, 0, name="@everyone")
    assert "@everyone" not in out and "everyone" in out


def test_literal_braces_and_name_containing_braces() -> None:
    template = ReplyTemplate("t", ("{{literal}} {name}",))
    assert render_reply(template, 0, name="{due}") == "{literal} {due}"


def test_template_problems() -> None:
    assert template_problem("Hi {name}, see you {due}") is None
    assert "unknown placeholder {nmae}" in (template_problem("Hi {nmae}") or "")
    assert "broken braces" in (template_problem("Hi {name") or "")
    assert "no format" in (template_problem("{name!r}") or "")
    assert "unknown placeholder" in (template_problem("{0}") or "")
