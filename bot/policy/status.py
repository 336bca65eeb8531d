"""The `status_command:` section: the member-facing `/followback status`, off unless the
policy enables it, answered in the policy's own words.

    status_command:
      enabled: true
      followed: "You're followed back, {name}."
      later: "I follow back late: around {due}."
      review: "I haven't decided yet, {name}."
      nothing: "Nothing to tell yet."
"""

from __future__ import annotations

from typing import Any

from bot.policy.model import StatusCommand
from bot.policy.reader import Reader
from bot.policy.yamltree import Node

STATUS_KEYS = ("enabled", "followed", "later", "review", "nothing")
TEXT_KEYS = STATUS_KEYS[1:]
PLACEHOLDERS = {"name": "Ada", "due": "Mon 01 Dec, 09:00"}


class StatusReader(Reader):
    def status_command(self, node: Node | None) -> StatusCommand:
        if node is None or node.value is None:
            return StatusCommand()
        fields = self.mapping(node, "status_command", STATUS_KEYS) or {}
        values: dict[str, Any] = {}
        if "enabled" in fields:
            enabled = fields["enabled"].value
            if isinstance(enabled, bool):
                values["enabled"] = enabled
            else:
                self.report(fields["enabled"], "status_command.enabled", "expected true or false")
        for key in TEXT_KEYS:
            if key not in fields:
                continue
            path = f"status_command.{key}"
            text = self.text_value(fields[key], path)
            if text is None:
                continue
            try:
                text.format(**PLACEHOLDERS)
            except (KeyError, IndexError, ValueError) as exc:
                self.report(
                    fields[key], path, f"unknown placeholder {exc}; use {{name}} or {{due}}"
                )
                continue
            values[key] = text
        return StatusCommand(**values)
