"""ActionFailed.verdict: transient failures are retried, refusals never are."""

from __future__ import annotations

import pytest

from bot.service.actions import (
    CANNOT_DM,
    MISSING_PERMISSIONS,
    OPENING_DMS_TOO_FAST,
    UNKNOWN_MEMBER,
    ActionFailed,
    Verdict,
)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, None),  # rate limited
        (400, OPENING_DMS_TOO_FAST),  # 40003: a rate limit in disguise
        (500, None),
        (502, None),
        (503, 0),
        (504, None),
        (0, None),  # network trouble, no HTTP answer at all
    ],
)
def test_transient_failures_are_retried(status: int, code: int | None) -> None:
    assert ActionFailed(status, code, "x").verdict is Verdict.RETRY


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, CANNOT_DM),  # closed DMs on a message POST
        (400, CANNOT_DM),  # ... and from create-DM
        (403, MISSING_PERMISSIONS),
        (404, UNKNOWN_MEMBER),
        (401, None),
        (403, None),  # a 403 counts toward Discord's invalid-request ban: never repeat
    ],
)
def test_refusals_are_given_up(status: int, code: int | None) -> None:
    assert ActionFailed(status, code, "x").verdict is Verdict.GIVE_UP


def test_the_message_names_status_and_code() -> None:
    text = str(ActionFailed(403, CANNOT_DM, "Cannot send messages to this user"))
    assert "403" in text and "50007" in text and "Cannot send messages" in text


def test_it_can_be_raised_and_caught_with_its_fields() -> None:
    with pytest.raises(ActionFailed) as caught:
        raise ActionFailed(429, None, "slow down", retry_after=1.5)
    assert caught.value.status == 429
    assert caught.value.retry_after == 1.5
