"""The `followback` console command: run, demo, standin, policy ..."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from bot.digest_cli import add_digest_parser, run_digest_command

RUN_DESCRIPTION = """\
Connect to Discord and enforce the policy. Settings come from the environment and
from `.env` in the current folder (see .env.example). With no DISCORD_TOKEN there,
`run` plays the demo against the local Discord stand-in instead (no network)."""

POLICY_DESCRIPTION = "Check, explain and simulate policy files without connecting to Discord."


def _version() -> str:
    try:
        return version("followback")
    except PackageNotFoundError:  # a checkout used without installing
        from bot import __version__

        return __version__


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="followback",
        description="A self-hosted Discord bot that enforces one person's follow policy.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    sub.add_parser(
        "run",
        help="connect to Discord with the token from .env (no token: the demo)",
        description=RUN_DESCRIPTION,
    )

    demo = sub.add_parser(
        "demo",
        help="the whole bot against the local stand-in, a scripted scenario",
        description="The whole bot against the local Discord stand-in on a fast clock: "
        "a scripted scenario and its transcript. No token, no network.",
    )
    demo.add_argument(
        "--database", metavar="FILE", help="SQLite file to keep (default: a temporary one)"
    )

    standin = sub.add_parser(
        "standin",
        help="run the local Discord stand-in alone",
        description="Serve a local Discord stand-in (REST API v10 and gateway) with a sample "
        "guild; point a bot at it with FOLLOWBACK_API_BASE=http://HOST:PORT.",
    )
    standin.add_argument(
        "--port", type=int, default=8765, help="TCP port to listen on (default: %(default)s)"
    )
    standin.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    standin.add_argument(
        "--member-request-window",
        type=float,
        default=30.0,  # Discord's (bot.standin.chunking.ALL_MEMBERS_WINDOW)
        metavar="SECONDS",
        help="seconds within which a second request for a guild's whole member list "
        "(gateway op 8) gets RATE_LIMITED; 0 turns it off (default: %(default)s, Discord's)",
    )

    policy = sub.add_parser(
        "policy", help="check, explain and simulate policy files", description=POLICY_DESCRIPTION
    )
    psub = policy.add_subparsers(dest="policy_command", metavar="COMMAND", title="commands")
    check = psub.add_parser(
        "check",
        help="validate files and run their examples",
        description="Validate policy files and run the example members each one carries; "
        "exit 0 only if all pass.",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="policy files (YAML)")
    explain = psub.add_parser(
        "explain",
        help="decide for one member and say why",
        description="Decide for one member: the decision, the rule, and why earlier rules "
        "did not match.",
    )
    explain.add_argument("file", metavar="FILE", help="the policy file (YAML)")
    who = explain.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--member",
        metavar="JSON",
        help='member facts as JSON, e.g. \'{"name": "ada", "account_age": "3d"}\'',
    )
    who.add_argument(
        "--mention",
        metavar="JSON",
        help='a mention as JSON, e.g. \'{"text": "follow back?", "author": {"name": "ada"}}\'',
    )
    explain.add_argument(
        "--no-message-content",
        action="store_true",
        help="as without the MESSAGE_CONTENT intent: the text is unknown to text rules",
    )
    explain.add_argument("--now", metavar="TIME", help="ISO time to decide at (default: now)")
    simulate = psub.add_parser(
        "simulate",
        help="decide for many members (JSON lines)",
        description="Decide for many members; print one JSON decision per line.",
    )
    simulate.add_argument("file", metavar="FILE", help="the policy file (YAML)")
    simulate.add_argument(
        "--members", metavar="FILE", help="JSON lines file of member facts, one member a line"
    )
    simulate.add_argument(
        "--history", metavar="DB", help="a bot's SQLite database whose followers to replay"
    )
    simulate.add_argument("--now", metavar="TIME", help="ISO time to decide at (default: now)")
    psub.add_parser(
        "schema",
        help="print the policy file's JSON Schema",
        description="Print the policy file's JSON Schema (for editors' completion).",
    )
    parser.set_defaults(_parser=parser)
    policy.set_defaults(_parser=policy)
    add_digest_parser(sub)
    return parser


def _dispatch(argv: Sequence[str] | None) -> int:
    args = _build_parser().parse_args(argv)
    if (
        args.command is None
        or (args.command == "policy" and args.policy_command is None)
        or (args.command == "digest" and args.digest_command is None)
    ):
        # A command alone is a request for help, not a mistake.
        args._parser.print_help()
        return 0
    if args.command == "policy":
        from bot.policy_cli import run_policy_command

        return run_policy_command(args)
    if args.command == "digest":
        return run_digest_command(args)
    if args.command == "standin":
        from bot.standin.cli import serve

        return serve(
            host=args.host, port=args.port, member_request_window=args.member_request_window
        )
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(database=args.database)
    if args.command == "run":
        return _run()
    return 2


def _run() -> int:
    """`followback run`: settings checked first; no token in .env plays the demo instead."""
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"followback: {line}", file=sys.stderr)
        return 2
    if settings.token is None or not settings.token.get_secret_value():
        print("followback: no DISCORD_TOKEN in .env; running the demo against the local stand-in")
        from bot.demo import run_demo

        return run_demo()
    from bot.app import run_bot

    return run_bot(settings)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # The reader went away (`followback policy schema | head -3`): stop quietly, as
        # Unix tools do. Python would complain again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
