"""What the REST handlers use, each under its own key of the API application, so a handler
takes exactly the parts it needs (the world, the events, the application...)."""

from __future__ import annotations

from aiohttp import web

from bot.standin.application import Application
from bot.standin.commands import CommandCreates
from bot.standin.events import Events
from bot.standin.faults import Faults
from bot.standin.holds import Holds
from bot.standin.interactions import Interactions
from bot.standin.outgoing import Nonces
from bot.standin.ratelimits import DmOpens, RateLimits
from bot.standin.recorder import Recorder
from bot.standin.state import World

WORLD = web.AppKey("world", World)
APP = web.AppKey("application", Application)
EVENTS = web.AppKey("events", Events)
INTERACTIONS = web.AppKey("interactions", Interactions)
COMMAND_CREATES = web.AppKey("command_creates", CommandCreates)
DM_OPENS = web.AppKey("dm_opens", DmOpens)
NONCES = web.AppKey("nonces", Nonces)
FAULTS = web.AppKey("faults", Faults)
HOLDS = web.AppKey("holds", Holds)
RATE_LIMITS = web.AppKey("rate_limits", RateLimits)
RECORDER = web.AppKey("recorder", Recorder)


def world_of(request: web.Request) -> World:
    return request.app[WORLD]


def app_of(request: web.Request) -> Application:
    return request.app[APP]


def events_of(request: web.Request) -> Events:
    return request.app[EVENTS]


def interactions_of(request: web.Request) -> Interactions:
    return request.app[INTERACTIONS]
