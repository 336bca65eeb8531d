"""/stats [period]: decisions by rule and action, DMs sent and refused, over a period."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.policy import Period, parse_period
from bot.service.clock import Clock
from bot.store import StatsRow, Store


@dataclass(frozen=True, slots=True)
class Stats:
    period: Period
    counts: StatsRow

    def lines(self) -> list[str]:
        c = self.counts
        total = sum(n for _, _, n in c.by_rule)
        out = [f"**{self.period.label}**: {total} decision{'s' * (total != 1)}"]
        out += [f"- rule `{rule}`: {action} x {n}" for rule, action, n in c.by_rule[:20]]
        if len(c.by_rule) > 20:
            out.append(f"- ... and {len(c.by_rule) - 20} more rule/action pairs")
        out.append(f"DMs sent: {c.dms_sent}; refused: {c.dms_refused}")
        out.append(f"owner actions: {c.owner_actions}")
        return out


class StatsService:
    def __init__(self, store: Store, clock: Clock, timezone: Callable[[], str]) -> None:
        self._store = store
        self._clock = clock
        self._timezone = timezone  # the owner's, from the policy in force

    async def over(self, period_text: str) -> Stats:
        """ValueError (with what to write instead) for a malformed period."""
        period = parse_period(period_text, self._clock.now(), self._timezone())
        return Stats(period, await self._store.stats(period.start, period.end))
