"""Message nonces cannot repeat across databases.

resources/message.mdx "Create Message": with `enforce_nonce`, a nonce "will be checked for
uniqueness in the past few minutes. If another message was created by the same author with
the same nonce, that message will be returned and no new message will be created"; a nonce is
at most 25 characters. Row ids start at 1 in every fresh database, so the nonce carries a
random prefix made once per database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import ActionSpec, Store
from bot.store.nonces import MAX_NONCE_LENGTH, NONCE_PREFIX_KEY, message_nonce
from tests.service.helpers import GUILD, T0


async def _first_dm_nonce(store: Store) -> tuple[int, str]:
    (outbox_id,) = await store.enqueue_actions(GUILD, 10, [ActionSpec("dm", {"text": "hi"})], T0)
    return outbox_id, store.message_nonce(outbox_id)


async def test_two_fresh_databases_give_the_same_row_different_nonces(tmp_path: Path) -> None:
    first = await Store.open(tmp_path / "first.sqlite3")
    second = await Store.open(tmp_path / "second.sqlite3")
    try:
        (one, nonce_one), (two, nonce_two) = (
            await _first_dm_nonce(first),
            await _first_dm_nonce(second),
        )
    finally:
        await first.close()
        await second.close()
    assert one == two == 1  # the same row id in each database...
    assert nonce_one != nonce_two  # ...but never the same nonce
    assert max(len(nonce_one), len(nonce_two)) <= MAX_NONCE_LENGTH


async def test_the_prefix_survives_reopening_and_is_stored_in_the_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await Store.open(path)
    prefix, nonce = store.nonce_prefix, store.message_nonce(7)
    await store.close()
    reopened = await Store.open(path)
    try:
        assert reopened.nonce_prefix == prefix
        assert reopened.message_nonce(7) == nonce  # a resend after a restart is deduped
    finally:
        await reopened.close()
    with sqlite3.connect(path) as conn:
        stored = conn.execute(
            "SELECT value FROM bot_settings WHERE key = ?", (NONCE_PREFIX_KEY,)
        ).fetchone()
    assert stored == (prefix,)


async def test_a_database_from_before_the_prefix_gets_one_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    store = await Store.open(path)
    await store.close()
    with sqlite3.connect(path) as conn:  # as a database made before nonces had a prefix
        conn.execute("DELETE FROM bot_settings WHERE key = ?", (NONCE_PREFIX_KEY,))
    reopened = await Store.open(path)
    try:
        assert len(reopened.nonce_prefix) == 6
    finally:
        await reopened.close()


@pytest.mark.parametrize("row_id", [1, 99, 10**12, 2**63 - 1])
def test_a_nonce_fits_discord_s_limit_and_names_the_row(row_id: int) -> None:
    nonce = message_nonce("qwerty", row_id)
    assert len(nonce) <= MAX_NONCE_LENGTH
    assert nonce == f"qwerty{row_id}"


def test_nonces_differ_per_row() -> None:
    assert len({message_nonce("qwerty", i) for i in range(1, 1000)}) == 999


@pytest.mark.parametrize("prefix", ["", "fb-", "QWERTY", "qwertyu", "qwer7y"])
def test_a_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        message_nonce(prefix, 1)
