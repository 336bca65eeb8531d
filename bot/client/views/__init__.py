"""Persistent components (discord.ui.DynamicItem): they work after any restart."""
