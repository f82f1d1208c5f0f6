"""`pmdata hook install` and `pmdata token`: what a machine of the home network needs to talk to
the server (HTTP hooks, forwarding command hooks, tokens)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from pmdata.errors import PmdashError


def cmd_hook_install(args: argparse.Namespace) -> int:
    from pmdata.ingest.hook_settings import (
        command_hook,
        hook_command,
        http_hook,
        install,
        settings_path,
    )

    if args.token_env and not args.url:
        raise PmdashError("--token-env goes with --url (the token is for the server)")
    if args.command and not args.url:
        raise PmdashError("--command goes with --url (a local hook is a command already)")
    path = settings_path(args.project, args.user)
    if args.url and not args.command:
        hook, kind = http_hook(args.url, args.token_env), "HTTP hooks to " + args.url
    else:
        command = hook_command(args.db, args.url, args.token_env)
        hook, kind = command_hook(command), f"`{command}`"
    added = install(path, hook)
    if added:
        print(f"{path}: added pmdash to {', '.join(added)} ({kind})")
    else:
        print(f"{path}: already set up, nothing changed")
    if args.url and args.token_env:
        print(f"Claude Code sends ${args.token_env} as the token: set it where Claude Code runs.")
    return 0


def _tokens(args: argparse.Namespace):
    from pmdata.access import Tokens
    from pmdata.paths import state_dir
    from pmdata.settings import load_settings

    settings = load_settings()
    return Tokens(str(settings.state_dir) if settings.state_dir else state_dir())


def cmd_token_create(args: argparse.Namespace) -> int:
    token = _tokens(args).create(args.name)
    print(token)  # stdout holds the token and nothing else: `export PMDASH_TOKEN=$(…)`
    print(f"token {args.name!r} created; it is shown only this once", file=sys.stderr)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    tokens = _tokens(args).list()
    if not tokens:
        print("no tokens (pmdata token create NAME makes one)")
    for token in tokens:
        created = datetime.fromtimestamp(token.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
        print(f"{token.name:32} created {created}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    _tokens(args).revoke(args.name)
    print(f"token {args.name!r} revoked: the server refuses it from now on")
    return 0
