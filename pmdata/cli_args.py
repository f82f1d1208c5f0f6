"""`pmdata`'s arguments: one subcommand per verb, each with its own options and an example in
its help (`pmdata openspec validate --help`). The commands themselves are in pmdata.commands;
`pmdata hook` (from stdin) takes the lean path in pmdata.cli before this is ever imported."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pmdata import commands, network_commands
from pmdata.errors import PmdashError
from pmdata.vocabulary import DECISIONS


def _with_example(parent, name: str, help: str, example: str, **kwargs) -> argparse.ArgumentParser:
    return parent.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=f"example: {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )


def _options(*adders) -> argparse.ArgumentParser:
    """A parent parser holding options several subcommands share."""
    parent = argparse.ArgumentParser(add_help=False)
    for add in adders:
        add(parent)
    return parent


def _db(p):
    p.add_argument("--db", type=Path, help="the SQLite file (default: PMDASH_DB)")


def _json(p):
    p.add_argument("--json", action="store_true", help="print JSON")


def _roots(p):
    p.add_argument(
        "--root",
        type=Path,
        action="append",
        help="a folder to scan for projects; repeatable (default: PMDASH_PROJECT_ROOTS)",
    )


def _project_folder(p):
    p.add_argument(
        "--root", type=Path, help="the project folder holding openspec/ (default: this folder)"
    )
    p.add_argument("--json", action="store_true", help="print the official CLI's JSON shape")


def _item(p, what: str):
    p.add_argument("item", metavar="ID", help=what)
    p.add_argument("--type", choices=["change", "spec"], help="what ID is (default: guessed)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pmdata", description=commands.__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db, db_json = _options(_db), _options(_db, _json)

    p = _with_example(
        sub,
        "config",
        "print the effective settings and where each came from",
        "pmdata config --json",
        parents=[_options(_db, _roots, _json)],
    )
    p.set_defaults(func=commands.cmd_config)

    p = _with_example(
        sub,
        "migrate",
        "create or extend the database schema (additive, idempotent)",
        "pmdata migrate --db ~/homelab/claude.db --list",
        parents=[db],
    )
    p.add_argument("--revert", action="store_true", help="remove pmdash's tables and columns only")
    p.add_argument("--list", action="store_true", help="each migration: applied when, or pending")
    p.set_defaults(func=commands.cmd_migrate)

    p = _with_example(
        sub,
        "query",
        "run a named query from queries/ (DuckDB, read-only)",
        "pmdata query failing_tests --param project=shop --format csv",
        parents=[db],
    )
    p.add_argument("name", nargs="?", help="the query's name (see --list)")
    p.add_argument("--list", action="store_true", help="list the queries and their parameters")
    p.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter; repeatable"
    )
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=commands.cmd_query)

    p = _with_example(
        sub,
        "hook",
        "record a Claude Code hook event from stdin; install the hooks; drain the spool",
        "pmdata hook install --project ~/dev/projects/shop",
        parents=[db],
    )
    p.add_argument("action", nargs="?", choices=["install"], help="install the hook block")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--project", type=Path, help="the project folder (.claude/settings.json)")
    where.add_argument("--user", action="store_true", help="~/.claude/settings.json")
    p.add_argument("--drain", action="store_true", help="record the spool of unrecorded events")
    p.add_argument(
        "--url", help="the pmdash server (http://server:8501): Claude Code's HTTP hooks post there"
    )
    p.add_argument(
        "--token-env", metavar="VAR", help="the environment variable holding the server's token"
    )
    p.add_argument(
        "--command",
        action="store_true",
        help="with --url: a command hook that forwards, keeping events while the server is down",
    )
    p.set_defaults(func=network_commands.cmd_hook_install)
    _token(sub)

    p = sub.add_parser("ingest", help="record producers' output in the database")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    p = _with_example(
        kinds,
        "playwright",
        "a Playwright JSON report (--reporter=json)",
        "pmdata ingest playwright report.json --project shop --workflow e2e --run 41",
        parents=[db],
    )
    p.add_argument("report", nargs="?", type=Path, help="the report file")
    p.add_argument("--project", required=True, help="the project the tests belong to")
    p.add_argument("--workflow", help="the workflow (default: the project name)")
    p.add_argument("--run", type=int, help="the run number (default: the workflow's next)")
    p.add_argument("--attempt", type=int, help="the CI's attempt at that run (a re-run job)")
    p.add_argument("--watch", type=Path, metavar="DIR", help="ingest new reports as they appear")
    p.set_defaults(func=commands.cmd_ingest_playwright)

    _openspec(sub)
    _triage(sub, db_json)

    p = _with_example(
        sub,
        "demo",
        "write a deterministic demo data set into DIR",
        "pmdata demo ~/pmdash-demo",
    )
    p.add_argument("dir", type=Path, help="writes DIR/pmdash.db and DIR/projects/<name>/openspec/")
    p.add_argument(
        "--scale",
        type=int,
        metavar="FAILURES",
        help="a large set with about this many failures (20 projects, 1,000 changes)",
    )
    p.add_argument("--projects", type=int, help="with --scale: number of projects")
    p.add_argument("--changes", type=int, help="active changes over all projects")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--now", type=int, help="unix time the history ends at (default: now)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=commands.cmd_demo)
    return parser


def _token(sub) -> None:
    p = sub.add_parser("token", help="tokens that let scripts and other machines use the server")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help, example, func in (
        ("create", "make a named token; prints it once", "pmdata token create ci-runner",
         network_commands.cmd_token_create),
        ("list", "the tokens' names and dates", "pmdata token list",
         network_commands.cmd_token_list),
        ("revoke", "refuse a token from now on", "pmdata token revoke ci-runner",
         network_commands.cmd_token_revoke),
    ):  # fmt: skip
        a = _with_example(actions, name, help, example)
        if name != "list":
            a.add_argument("name", help="the token's name (shown as who made a decision)")
        a.set_defaults(func=func)


def _openspec(sub) -> None:
    p = sub.add_parser("openspec", help="read and change an OpenSpec tree as the official CLI does")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    tree = _options(_project_folder)
    # Each action reads only its own options; the others are absent, as argparse leaves them.
    absent = {"item": None, "type": None, "specs": False, "strict": False, "archived": False}
    absent |= {"all": False, "yes": False, "force": False}

    def action(name: str, help: str, example: str, **own) -> argparse.ArgumentParser:
        a = _with_example(actions, name, help, example, parents=[tree])
        a.set_defaults(
            func=commands.cmd_openspec, **{k: v for k, v in absent.items() if k not in own}
        )
        return a

    a = action(
        "list",
        "the changes (or --specs) with their progress",
        "pmdata openspec list --specs",
        specs=1,
    )
    a.add_argument("--specs", action="store_true", help="specs instead of changes")

    a = action(
        "show", "one change or spec", "pmdata openspec show add-logout --json", item=1, type=1
    )
    _item(a, "the change or spec")

    a = action(
        "validate",
        "check changes and specs against the CLI's rules",
        "pmdata openspec validate --all --strict",
        item=1,
        type=1,
        strict=1,
        archived=1,
        all=1,
    )
    a.add_argument("item", metavar="ID", nargs="?", help="one change or spec (default: --all)")
    a.add_argument("--type", choices=["change", "spec"], help="what ID is (default: guessed)")
    a.add_argument("--all", action="store_true", help="every change and spec (the default)")
    a.add_argument("--strict", action="store_true", help="warnings fail too")
    a.add_argument("--archived", action="store_true", help="archived changes' open tasks")

    a = action(
        "archive",
        "merge a change's deltas into the specs and move it to the archive",
        "pmdata openspec archive add-logout --yes",
        item=1,
        yes=1,
        force=1,
    )
    a.add_argument("item", metavar="ID", help="the change")
    a.add_argument("--yes", action="store_true", help="go ahead although tasks are open")
    a.add_argument("--force", action="store_true", help="archive even when it is invalid")

    action("recover", "put back a tree an interrupted archive left", "pmdata openspec recover")


def _triage(sub, db_json) -> None:
    p = sub.add_parser("triage", help="classify failures; record what a person decides")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    absent = {"refresh": False, "failure": None, "fingerprint": None, "decision": None}
    absent |= {"rationale": "", "priority": None, "by": None}
    absent |= {"workflow": None, "test": None, "reason": None, "days": None}

    def action(name: str, help: str, example: str, **own) -> argparse.ArgumentParser:
        a = _with_example(actions, name, help, example, parents=[db_json])
        a.set_defaults(
            func=commands.cmd_triage, **{k: v for k, v in absent.items() if k not in own}
        )
        return a

    def decided(a, what: str) -> None:
        a.add_argument("--decision", choices=DECISIONS, required=True)
        a.add_argument("--rationale", default="", help=f"why, for {what}")
        a.add_argument("--priority", type=int, help="1 (low) to 5 (urgent)")
        who = os.environ.get("USER", "someone")
        a.add_argument("--by", default=who, help=f"who decides (default: {who})")

    a = action("run", "classify the failures not classified yet", "pmdata triage run", refresh=1)
    a.add_argument("--refresh", action="store_true", help="also redo undecided suggestions")

    a = action(
        "suggest",
        "what the rules suggest, and why",
        "pmdata triage suggest --failure 91",
        failure=1,
    )
    a.add_argument("--failure", type=int, help="one failure (default: every failure)")

    action("agreement", "how often people kept the suggestion", "pmdata triage agreement")
    action(
        "tune",
        "replay people's decisions: which threshold change would raise agreement (none applied)",
        "pmdata triage tune",
    )

    own = dict.fromkeys(["failure", "decision", "rationale", "priority", "by"], 1)
    a = action(
        "override",
        "record a person's decision for a failure",
        'pmdata triage override --failure 91 --decision ignore --rationale "lab outage"',
        **own,
    )
    a.add_argument("--failure", type=int, required=True, help="the failure's id")
    decided(a, "this failure")

    own = dict.fromkeys(["fingerprint", "decision", "rationale", "priority", "by"], 1)
    a = action(
        "group",
        "decide every failure with one error fingerprint",
        "pmdata triage group --fingerprint 3fa2c1 --decision one_off_fix",
        **own,
    )
    a.add_argument("--fingerprint", required=True, help="the error fingerprint")
    decided(a, "the group")

    def test_of(a) -> None:
        a.add_argument("--workflow", required=True, help="the test's workflow")
        a.add_argument("--test", required=True, help="the test's title, as the report has it")
        who = os.environ.get("USER", "someone")
        a.add_argument("--by", default=who, help=f"who says so (default: {who})")

    a = action(
        "mute",
        "leave a known-broken test aside for a while: shown apart, no priority",
        'pmdata triage mute --workflow shop-e2e --test "cart › total" --reason "rebuilt" --days 7',
        **dict.fromkeys(["workflow", "test", "reason", "days", "by"], 1),
    )
    test_of(a)
    a.add_argument("--reason", required=True, help="why, shown beside it")
    a.add_argument("--days", type=int, default=14, help="until it expires (1 to 90; default 14)")
    a = action(
        "unmute",
        "end a test's mute now",
        'pmdata triage unmute --workflow shop-e2e --test "cart › total"',
        **dict.fromkeys(["workflow", "test", "by"], 1),
    )
    test_of(a)


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PmdashError as exc:
        print(f"pmdata {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a name too long, a full disk: what and where, never a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"pmdata {args.command}: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pmdata {args.command}: interrupted", file=sys.stderr)
        return 130
