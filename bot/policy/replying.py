"""The `replying:` section: how mention auto-replies wait, ration and catch up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.policy.durations import shape
from bot.policy.model import Replying
from bot.policy.reader import Reader
from bot.policy.vocab import did_you_mean
from bot.policy.yamltree import Node

REPLYING_KEYS = (
    "reply_after",
    "channel_budget",
    "never_reply",
    "catch_up",
    "reply_max_age",
)
MAX_BUDGET = 1000
MAX_PAGES = 100


class ReplyingReader(Reader):
    def replying(self, node: Node | None, lists: dict[str, frozenset[str]]) -> Replying:
        if node is None or node.value is None:
            return Replying()
        fields = self.mapping(node, "replying", REPLYING_KEYS) or {}
        values: dict[str, Any] = {}
        for key in ("reply_after", "reply_max_age"):
            if key in fields:
                d = self.duration(fields[key], f"replying.{key}")
                if d is not None:
                    values[key] = d
        if "channel_budget" in fields:
            n = self._count(fields["channel_budget"], "replying.channel_budget", MAX_BUDGET)
            if n is not None:
                values["channel_budget"] = n
        if "never_reply" in fields:
            name = fields["never_reply"].value
            if isinstance(name, str) and name in lists:
                values["never_reply"] = name
            else:
                hint = did_you_mean(str(name), list(lists))
                known = f" (lists: {', '.join(sorted(lists))})" if lists and not hint else ""
                self.report(
                    fields["never_reply"],
                    "replying.never_reply",
                    f"unknown list {shape(name)}{hint}{known}; name a list from `lists:`",
                )
        if "catch_up" in fields:
            values.update(self._catch_up(fields["catch_up"]))
        return Replying(**values)

    def _catch_up(self, node: Node) -> dict[str, Any]:
        # `catch_up: 24h` or `catch_up: {within: 24h, pages: 5}`; `catch_up: 0s` turns it off.
        path = "replying.catch_up"
        if not isinstance(node.value, dict):
            whole = self.duration(node, path)
            return {} if whole is None else {"catch_up": whole}
        fields = self.mapping(node, path, ("within", "pages")) or {}
        out: dict[str, Any] = {}
        if "within" in fields:
            d: timedelta | None = self.duration(fields["within"], f"{path}.within")
            if d is not None:
                out["catch_up"] = d
        if "pages" in fields:
            n = self._count(fields["pages"], f"{path}.pages", MAX_PAGES)
            if n is not None:
                out["catch_up_pages"] = n
        return out

    def _count(self, node: Node, path: str, most: int) -> int | None:
        n = node.value
        if isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= most:
            return n
        self.report(node, path, f"expected a whole number from 0 to {most}")
        return None
