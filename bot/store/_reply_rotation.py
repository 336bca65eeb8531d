"""The reply_rotation table: reply variants are picked in turn, per template."""

from __future__ import annotations

import sqlite3

_NEXT_VARIANT = """
INSERT INTO reply_rotation (template, next_index) VALUES (?, 1)
ON CONFLICT (template) DO UPDATE SET next_index = next_index + 1
RETURNING next_index - 1
"""


def next_variant(conn: sqlite3.Connection, template: str) -> int:
    """0, 1, 2, ... per template, persisted."""
    return int(conn.execute(_NEXT_VARIANT, (template,)).fetchone()[0])
