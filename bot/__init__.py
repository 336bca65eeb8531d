"""Followback: a self-hosted Discord bot that enforces one person's follow policy."""

__version__ = "0.1.0"
