"""A local Discord stand-in (REST API v10 + Gateway) that the real discord.py client talks to.

Nothing here imports discord.py: the stand-in speaks Discord's JSON, so it tests discord.py
rather than agreeing with it.
"""

from bot.standin.interactions import Interaction
from bot.standin.recorder import Recorded, Recorder
from bot.standin.sample import SampleWorld
from bot.standin.server import StandIn

__all__ = ["Interaction", "Recorded", "Recorder", "SampleWorld", "StandIn"]
