"""The policy files ship inside the package as `bot.bundled_policies` (see setup.py)."""
