"""The `pmdata` subcommands: parse arguments, call the library, print. Nothing else."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pmdata.errors import QueryError


def _settings(args: argparse.Namespace):
    from pmdata.settings import load_settings

    roots = getattr(args, "root", None)
    return load_settings(db=getattr(args, "db", None), project_roots=roots or None)


def _db(args: argparse.Namespace) -> Path:
    from pmdata.errors import StoreError

    db = _settings(args).db
    if db is None:
        raise StoreError("no database given: pass --db PATH or set PMDASH_DB")
    return db


def cmd_config(args: argparse.Namespace) -> int:
    from pmdata.settings import Settings, explain_settings

    settings, sources = explain_settings(db=args.db, project_roots=args.root or None)
    shown = settings.model_dump(mode="json")
    if shown.get("password"):
        shown["password"] = "********"  # say that it is set, never what it is
    if args.json:
        print(json.dumps({"settings": shown, "sources": sources}, indent=2))
        return 0
    for field in Settings.model_fields:
        value = shown[field] if field == "password" else getattr(settings, field)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "(none)"
        print(f"{Settings.env_var(field):24} {value!s:40} ← {sources[field]}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from pmdata.store import migrate, revert
    from pmdata.store.database import journal_mode

    db = _db(args)
    if args.list:
        from pmdata.store.migrations import status_lines

        print("\n".join(status_lines(db)))
        return 0
    if args.revert:
        done = revert(db)
        for line in done:
            print(line)
        print(
            f"{db}: pmdash's tables and columns removed ({len(done)} changes); "
            "`pmdata migrate` brings them back"
        )
        return 0
    done = migrate(db)
    for line in done:
        print(line)
    print(f"{db}: up to date ({len(done)} change{'s' if len(done) != 1 else ''})")
    mode = journal_mode(db)
    if mode != "wal":
        print(
            f"journal mode: {mode}, left as found (the homelab's services own that choice). "
            "In WAL mode the dashboard's reads never wait on writers: "
            f"`sqlite3 {db} 'PRAGMA journal_mode=WAL'` while nothing else has the file open."
        )
    return 0


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise QueryError(f"--param takes key=value, got {pair!r}")
        params[key.strip()] = value
    return params


def cmd_query(args: argparse.Namespace) -> int:
    from pmdata.analytics import Analytics, list_queries, load_query

    if args.list or not args.name:
        for q in list_queries():
            params = " ".join(
                f"[{p.name}={'' if p.default is None else p.default}]" for p in q.params
            )
            print(f"{q.name:24} {q.about}" + (f"\n{'':24} params: {params}" if params else ""))
        return 0
    query = load_query(args.name)
    params = query.bind(_parse_params(args.param))  # check params before touching the database
    frame = Analytics(_db(args)).run_sql(query.sql, params, query.name)
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        print(frame.to_json(orient="records", date_format="iso", indent=2))
    else:
        print(frame.to_string(index=False) if len(frame) else "(no rows)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pmdata.demo import DemoPlan, build_demo

    plan = (
        DemoPlan.scaled(
            args.scale, projects=args.projects or 20, changes=args.changes or 1000, seed=args.seed
        )
        if args.scale
        else DemoPlan(seed=args.seed, **({"changes": args.changes} if args.changes else {}))
    )
    counts = build_demo(args.dir, plan, now=args.now, progress=not args.quiet)
    summary = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    print(f"demo written to {args.dir}: {summary}")
    print(
        f"  PMDASH_DB={Path(args.dir) / 'pmdash.db'}"
        f" PMDASH_PROJECT_ROOTS={Path(args.dir) / 'projects'}"
    )
    return 0


def cmd_ingest_playwright(args: argparse.Namespace) -> int:
    from pmdata.ingest.playwright_ingest import ingest_report, watch

    db = _db(args)
    if args.watch:

        def report(path, result):
            print(
                f"error: {result}" if isinstance(result, Exception) else result.describe(),
                flush=True,
            )
            if not isinstance(result, Exception) and not result.duplicate:
                _classify_on_arrival(args, db)

        print(f"watching {args.watch} for Playwright reports (Ctrl-C stops)", flush=True)
        watch(db, args.watch, args.project, args.workflow, report)
        return 0
    if not args.report:
        raise QueryError("give a REPORT.json or --watch DIR")
    result = ingest_report(
        db,
        args.report,
        args.project,
        args.workflow,
        args.run,
        progress=sys.stderr.isatty(),
        attempt=args.attempt,
    )
    print(result.describe())
    if not result.duplicate:
        _classify_on_arrival(args, db)
    return 0


def _classify_on_arrival(args: argparse.Namespace, db: Path) -> None:
    """A report's failures get their suggestions as it lands: no separate `triage run`."""
    from pmdata.triage.service import classify_on_arrival, thresholds_from

    done = classify_on_arrival(db, thresholds_from(_settings(args)), args.workflow or args.project)
    print(f"classified {done['classified']} new failure(s): suggestions are on the Errors page")


def _openspec_tree(args: argparse.Namespace):
    from pmdata.openspec.tree import OpenSpecError, OpenSpecTree

    root = (args.root or Path.cwd()).resolve()
    if root.name == "openspec" and not (root / "openspec").is_dir():
        root = root.parent
    if not (root / "openspec").is_dir():
        raise OpenSpecError(f"no openspec/ folder in {root}: pass the project folder as --root")
    return root, OpenSpecTree(root / "openspec")


def _print_json(data: dict) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def cmd_openspec(args: argparse.Namespace) -> int:
    from pmdata.openspec.tree import OpenSpecError

    root, tree = _openspec_tree(args)
    root_info = {"path": str(root), "source": "nearest"}
    if args.action == "list":
        key, items = (
            ("specs", tree.list_specs()) if args.specs else ("changes", tree.list_changes())
        )
        if args.json:
            _print_json({key: items, "root": root_info})
        else:
            for item in items:
                print("  ".join(str(v) for v in item.values()))
        return 0
    if args.action == "validate":
        return _openspec_validate(args, tree, root_info)
    if args.action == "archive":
        return _openspec_archive(args, tree, root_info)
    if args.action == "recover":
        return _openspec_recover(tree)
    if not args.item:
        raise OpenSpecError("show needs an item id: pmdata openspec show ID")
    kind = args.type or ("change" if args.item in tree.change_ids() else "spec")
    try:
        shown = tree.show_change(args.item) if kind == "change" else tree.show_spec(args.item)
    except OpenSpecError as exc:
        if args.json:
            _print_json(
                {"status": [{"severity": "error", "code": "show_error", "message": str(exc)}]}
            )
            return 1
        raise
    if args.json:
        _print_json({**shown, "root": root_info})
    else:
        print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


def _openspec_validate(args: argparse.Namespace, tree, root_info: dict) -> int:
    from pmdata.openspec import validate

    if args.all and args.item:
        raise validate.OpenSpecError("give one ID or --all, not both")
    if args.archived:
        result = validate.validate_archived(tree)
    elif args.item:
        kind = args.type or ("change" if args.item in tree.change_ids() else "spec")
        whole = validate.validate_tree(
            tree, args.strict, changes=kind == "change", specs=kind == "spec"
        )
        items = [i for i in whole["items"] if i["id"] == args.item]
        if not items:
            raise validate.OpenSpecError(f"no {kind} named {args.item!r} in {tree.root}")
        result = {"items": items, "version": "1.0"}
    else:
        result = validate.validate_tree(tree, args.strict)
    unfinished = _report_unfinished_archives(tree.root)
    if args.json:
        _print_json({**result, "root": root_info})
    else:
        for item in result["items"]:
            print(f"{'✓' if item['valid'] else '✗'} {item['type']}/{item['id']}")
            for i in item["issues"]:
                print(f"  [{i['level']}] {i['path']}: {i['message']}")
    return 0 if all(i["valid"] for i in result["items"]) and not unfinished else 1


def _report_unfinished_archives(openspec_dir: Path) -> bool:
    """An archive killed half way leaves specs/ part-merged: say so on stderr (stdout keeps the
    CLI's own shape) and how to finish it."""
    from pmdata.openspec.transaction import unfinished_archives

    found = unfinished_archives(openspec_dir)
    for left in found:
        print(f"warning: {left.describe(str(openspec_dir.parent))}", file=sys.stderr)
    return bool(found)


def _openspec_recover(tree) -> int:
    from pmdata.openspec.transaction import recover, tree_lock

    with tree_lock(tree.root):
        done = recover(tree.root)
    print("\n".join(done) if done else f"nothing to recover in {tree.root}")
    return 0


def _openspec_archive(args: argparse.Namespace, tree, root_info: dict) -> int:
    from pmdata.openspec.archive import ArchiveRefused, archive_change

    if not args.item:
        raise ArchiveRefused("archive needs a change id: pmdata openspec archive ID")
    try:
        plan = archive_change(tree.root, args.item, force=args.force, accept_open_tasks=args.yes)
    except ArchiveRefused as exc:
        if not args.json:
            raise
        _print_json({"archive": None, "error": str(exc), "issues": exc.issues, "root": root_info})
        return 1
    done = {
        "changeName": plan.change_id,
        "archiveName": plan.archive_name,
        "specs": plan.updates,
        "warnings": plan.warnings,
    }
    if args.json:
        _print_json({"archive": done, "root": root_info})
    else:
        print(f"archived {plan.change_id} as changes/archive/{plan.archive_name}")
        for update in plan.updates:
            print(f"  {update['spec']}: {update['action']} {update['counts']}")
        for warning in plan.warnings:
            print(f"  warning: {warning}")
    return 0


def _mute(db, args: argparse.Namespace) -> int:
    from pmdata.triage import mutes

    test = f"{args.test!r} of {args.workflow}"
    if args.action == "mute":
        mutes.mute(db, args.workflow, args.test, args.reason, args.days, args.by)
        print(f"muted {test} for {args.days} days: {args.reason.strip()}")
    elif mutes.unmute(db, args.workflow, args.test, args.by):
        print(f"unmuted {test}")
    else:
        print(f"{test} was not muted")
    return 0


def cmd_triage(args: argparse.Namespace) -> int:
    from pmdata.analytics import Analytics
    from pmdata.triage import service

    db = _db(args)
    thresholds = service.thresholds_from(_settings(args))
    if args.action == "run":
        done = service.run_triage(db, thresholds, refresh=args.refresh)
        print(
            f"classified {done['classified']} new failures"
            + (f", refreshed {done['refreshed']} undecided ones" if args.refresh else "")
        )
        return 0
    if args.action == "override":
        if args.failure is None or not args.decision:
            raise service.TriageError("override needs --failure ID --decision D --rationale R")
        service.override(db, args.failure, args.decision, args.rationale, args.priority, args.by)
        print(f"failure {args.failure}: {args.decision}")
        return 0
    if args.action == "group":
        if not args.fingerprint or not args.decision:
            raise service.TriageError("group needs --fingerprint F --decision D --rationale R")
        n = service.triage_group(
            db, args.fingerprint, args.decision, args.rationale, args.priority, args.by
        )
        print(f"{n} failures with fingerprint {args.fingerprint}: {args.decision}")
        return 0
    if args.action in ("mute", "unmute"):
        return _mute(db, args)
    analytics = Analytics(db)
    try:
        if args.action == "suggest":
            items = service.suggest(analytics, thresholds, args.failure)
            rows = [
                {
                    "failure_id": i.failure_id,
                    "workflow": i.key[0],
                    "test_file": i.key[1],
                    "test_name": i.key[2],
                    "fingerprint": i.fingerprint,
                    "decision": i.suggestion.decision,
                    "priority": i.suggestion.priority,
                    "confidence": i.suggestion.confidence,
                    "rules": list(i.suggestion.rules),
                    "rationale": i.suggestion.rationale,
                }
                for i in items
            ]
            if args.json:
                _print_json({"suggestions": rows})
            else:
                for r in rows:
                    print(
                        f"{r['failure_id']:>8} {r['decision']:12} p{r['priority']} "
                        f"{r['test_name']}\n         {r['rationale']}"
                    )
            return 0
        if args.action == "tune":
            from pmdata.triage.tune import tune

            tuning = tune(analytics, thresholds)
            print("\n".join(tuning.lines()))
            return 0
        frame = service.agreement(analytics)
        if args.json:
            print(frame.to_json(orient="records"))
        elif frame.empty or not int(frame.iloc[0]["reviewed"]):
            print("no person has reviewed a suggestion yet")
        else:
            for row in frame.itertuples(index=False):
                print(
                    f"{row.scope:8} {row.bucket:16} {int(row.kept):>6}/{int(row.reviewed):<6}"
                    f" {row.agreement:6.1%}"
                )
        return 0
    finally:
        analytics.close()
