"""Message nonces: the outbox row's id behind a random prefix that belongs to the database.

Discord returns the existing message for a repeated enforced nonce from the same author within
a few minutes (resources/message.mdx "Create Message": `nonce`, `enforce_nonce`; at most 25
characters). Row ids start again at 1 in a fresh database, so a reset or a second database
would reuse nonces Discord may still hold and lose a message as a "duplicate". The prefix is
made once per database (at the first open of this version) and stored in it.
"""

from __future__ import annotations

import re
import secrets
import string

NONCE_PREFIX_KEY = "outbox_nonce_prefix"  # its row in bot_settings
PREFIX_LENGTH = 6  # 26**6, about 3e8 prefixes; letters only, so the row id starts after it
MAX_NONCE_LENGTH = 25  # Discord's limit
MAX_ROW_ID = 2**63 - 1  # SQLite's largest rowid: 19 digits, so 6 + 19 = 25
_PREFIX = re.compile(rf"^[a-z]{{{PREFIX_LENGTH}}}$")


def new_nonce_prefix() -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(PREFIX_LENGTH))


def check_nonce_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise ValueError(f"bad outbox nonce prefix {prefix!r}: {PREFIX_LENGTH} letters a-z")
    return prefix


def message_nonce(prefix: str, outbox_id: int) -> str:
    """The nonce of an outbox row's message: the same for every attempt at that row."""
    if not 0 < outbox_id <= MAX_ROW_ID:
        raise ValueError(f"outbox id {outbox_id} out of range")
    return f"{check_nonce_prefix(prefix)}{outbox_id}"


__all__ = [
    "MAX_NONCE_LENGTH",
    "NONCE_PREFIX_KEY",
    "check_nonce_prefix",
    "message_nonce",
    "new_nonce_prefix",
]
