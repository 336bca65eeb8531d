"""The `followback` console command: run, demo, standin, policy ..."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="followback", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="connect to Discord with the token from .env")

    demo = sub.add_parser("demo", help="the whole bot against the local stand-in")
    demo.add_argument("--database", help="SQLite file (default: a temporary one)")

    standin = sub.add_parser("standin", help="run the local Discord stand-in alone")
    standin.add_argument("--port", type=int, default=8765)
    standin.add_argument("--host", default="127.0.0.1")

    policy = sub.add_parser("policy", help="check, explain and simulate policy files")
    psub = policy.add_subparsers(dest="policy_command", required=True)
    check = psub.add_parser("check", help="validate files and run their examples")
    check.add_argument("files", nargs="+")
    explain = psub.add_parser("explain", help="decide for one member and say why")
    explain.add_argument("file")
    explain.add_argument("--member", required=True, help="member facts as JSON")
    explain.add_argument("--now", help="ISO time to decide at (default: now)")
    simulate = psub.add_parser("simulate", help="decide for many members (JSON lines)")
    simulate.add_argument("file")
    simulate.add_argument("--members", help="JSON lines file of member facts")
    simulate.add_argument("--history", help="SQLite database whose followers to replay")
    simulate.add_argument("--now", help="ISO time to decide at (default: now)")
    psub.add_parser("schema", help="print the policy file's JSON Schema")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "policy":
        from bot.policy_cli import run_policy_command

        return run_policy_command(args)
    if args.command == "standin":
        from bot.standin.cli import serve

        return serve(host=args.host, port=args.port)
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(database=args.database)
    if args.command == "run":
        from bot.app import run_bot

        return run_bot()
    return 2


if __name__ == "__main__":
    sys.exit(main())
