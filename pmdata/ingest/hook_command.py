"""`pmdata hook`, the command Claude Code runs on every event: read stdin, record, exit. Its own
small argument reader (argparse alone costs milliseconds on a path timed per tool call).
Standard library only."""

from __future__ import annotations

import os
import sys

from pmdata.ingest.hook_recorder import HookRecorder


def main(argv: list[str]) -> int:
    """`pmdata hook [--db PATH]` reads stdin, records, exits 0 (1 after a typo in its own
    arguments: the event is still recorded, and Claude Code shows the line without blocking).
    `pmdata hook --drain [--db PATH]` records what the spool holds, says what it did on stderr,
    and exits 1 when events are still waiting."""
    environ = dict(os.environ)
    db = environ.get("PMDASH_DB") or None
    drain_only, unknown, url, token_env = False, [], None, "PMDASH_TOKEN"
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("--db", "--url", "--token-env") and args:
            value = args.pop(0)
        elif arg.startswith(("--db=", "--url=", "--token-env=")):
            arg, _, value = arg.partition("=")
        elif arg == "--drain":
            drain_only = True
            continue
        else:
            unknown.append(arg)
            continue
        if arg == "--db":
            db = value
        elif arg == "--url":
            url = value
        else:
            token_env = value
    recorder = HookRecorder(os.path.expanduser(db) if db else None, environ)
    sender = recorder
    if url:
        from pmdata.ingest.hook_forward import Forwarder

        try:
            sender = Forwarder(recorder, url, token_env)
        except ValueError as exc:
            unknown.append(str(exc))
    if unknown:
        message = (
            f"unknown argument(s) {' '.join(unknown)} "
            "(pmdata hook [--db PATH | --url URL [--token-env VAR]] [--drain])"
        )
        if drain_only:
            print(f"pmdata hook: {message}", file=sys.stderr)
            return 2
        recorder.log(message)  # the event still counts: a typo in settings.json loses nothing
        print(f"pmdata hook: {message}", file=sys.stderr)
    if drain_only:
        try:
            report = sender.drain()
        except OSError as exc:  # the state folder itself cannot be used
            print(f"pmdata hook --drain: cannot use {recorder.folder}: {exc}", file=sys.stderr)
            return 2
        print(f"pmdata hook --drain: {report.describe(recorder.spool)}", file=sys.stderr)
        return 1 if report.waiting else 0
    try:
        # Bytes, decoded leniently: an invalid byte must not cost the event (hook_events.clean).
        stdin = sys.stdin
        if stdin.isatty():
            raw = ""
        elif hasattr(stdin, "buffer"):
            raw = stdin.buffer.read().decode("utf-8", "surrogateescape")
        else:  # a text stream handed in by a caller (tests, an embedding program)
            raw = stdin.read()
        sender.handle(raw)
    except Exception as exc:  # never in the agent's way, whatever happens
        recorder.log(f"error: {type(exc).__name__}: {exc}")
    # Never 2: Claude Code reads exit 2 from a PreToolUse hook as "block this tool call".
    return 1 if unknown else 0
