"""The `sheetsync` command: a thin layer that builds the run, calls the library, maps errors.

Exit codes (for cron): 0 every workbook synced and valid; 1 a workbook failed, has invalid
rows, or an alert could not be delivered; 2 the configuration is wrong; 3 another run holds
the lock.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import threading
from collections.abc import Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sheetsync import __version__
from sheetsync import config as cfg
from sheetsync.core.errors import ConfigError, LockHeldError, SheetsyncError
from sheetsync.core.model import Status
from sheetsync.runner import EXIT_CONFIG, EXIT_LOCKED, RunReport, run_all
from sheetsync.sync import WorkbookReport

log = logging.getLogger("sheetsync")
DEFAULT_CONFIG = "config/sheetsync.toml"
MAX_PROBLEMS_SHOWN = 20


def _console() -> Console:
    # markup=False: cell values and tab names are printed as they are, `[x]` included.
    return Console(highlight=False, soft_wrap=True, markup=False)


def _status_counts(counts: dict[Status, int]) -> str:
    return ", ".join(f"{n} {s.value.lower()}" for s, n in counts.items() if n) or "none"


def print_report(
    report: RunReport, console: Console, *, all_problems: bool = False, layouts: bool = False
) -> None:
    table = Table(title=f"sheetsync {'dry run ' if report.dry_run else ''}as of {report.as_of}")
    for col in ("Workbook", "Objectives", "Key results", "KPIs", "Result"):
        table.add_column(col, overflow="fold")
    for w in report.workbooks:
        table.add_row(
            Text(w.name),
            str(len(w.objectives)),
            _status_counts(w.key_results),
            _status_counts(w.kpis),
            _result(w, report.dry_run),
        )
    console.print(table)
    shown = 0
    for w in report.workbooks:
        if w.error:
            console.print(Text.assemble(("✗ ", "red"), (w.name, "red"), f": {w.error}"))
        limit = len(w.problems) if all_problems else max(0, MAX_PROBLEMS_SHOWN - shown)
        for problem in w.problems[:limit]:
            console.print(Text.assemble("  ", ("!", "yellow"), f" {problem}"))
        shown += min(limit, len(w.problems))
        if len(w.problems) > limit:
            console.print(f"  … {len(w.problems) - limit} more in the Note column and on Summary")
        for warning in w.warnings:
            console.print(Text.assemble("  ", ("warning", "yellow"), f": {warning}"))
        if layouts and w.layouts:
            console.print(Text.assemble(("How ", "dim"), (w.name, "bold"), (" was read:", "dim")))
            for layout in w.layouts:
                console.print(f"  {layout.describe()}")
    if report.alerts_sent or report.alerts_failed or report.alerts_pending:
        console.print(
            f"Alerts: {report.alerts_sent} sent, {report.alerts_failed} failed, "
            f"{report.alerts_pending} still pending"
        )
    for error in report.alert_errors:
        console.print(Text.assemble(("✗ alerts", "red"), f": {error}"))


def _result(w: WorkbookReport, dry_run: bool) -> Text:
    if w.error:
        return Text("failed", style="red")
    text = Text()
    if w.invalid_rows:
        text.append(f"{w.invalid_rows} invalid row{'s' * (w.invalid_rows > 1)}", style="yellow")
        text.append("; ")
    if dry_run:
        text.append("not written (dry run)")
    else:
        text.append(f"{w.cells_changed} cells updated" if w.wrote else "already up to date")
    return text


def _as_of(args: argparse.Namespace) -> date:
    return cfg.parse_as_of(args.as_of) if args.as_of else date.today()


def cmd_run(args: argparse.Namespace) -> int:
    from sheetsync.ops.scheduler import StopOnSignals
    from sheetsync.service import execute_run

    config = cfg.load_config(args.config)
    stop = threading.Event()
    # SIGTERM (systemd, Kubernetes) ends the run after the workbooks in hand, not mid-write.
    with StopOnSignals(stop):
        report = execute_run(
            config,
            as_of=_as_of(args),
            now=datetime.now().astimezone(),
            dry_run=args.dry_run,
            workers=args.workers,
            shard=args.shard,
            progress=not args.json and sys.stderr.isatty(),
            stop=stop,
        )
    if args.json:
        print(report.dumps())
    else:
        print_report(report, _console())
    return report.exit_code


def cmd_validate(args: argparse.Namespace) -> int:
    config = cfg.load_config(args.config)
    report = run_all(
        config, as_of=_as_of(args), now=datetime.now().astimezone(), dry_run=True, alerts=False
    )
    if args.json:
        print(report.dumps())
    else:
        print_report(report, _console(), all_problems=True, layouts=True)
    return report.exit_code


def cmd_init(args: argparse.Namespace) -> int:
    from sheetsync.template import write_template

    try:
        path = write_template(args.path)
    except FileExistsError as exc:
        raise ConfigError(str(exc)) from exc
    _console().print(
        f"Wrote {path}: edit the OKRs and KPIs tabs, then add it to your config:\n\n"
        f'[[workbooks]]\nname = "{path.stem}"\npath = "{path.resolve()}"'
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sheetsync.template import write_template

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "sheetsync.toml"
    workbook = folder / "okrs-demo.xlsx"
    if not config_path.exists():
        shutil.copyfile(str(resources.files("sheetsync") / "demo" / "sheetsync.toml"), config_path)
    if not workbook.exists():
        write_template(workbook)
    console = _console()
    console.print(f"Demo workbook and config in {folder.resolve()}/\n")
    args.config, args.dry_run, args.workers, args.shard = str(config_path), False, 1, None
    code = cmd_run(args)
    if not args.json:
        outbox = folder / "outbox"
        emails = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
        console.print(
            f"\nOpen {workbook} to see the Score, Status and Note columns and the Summary tab."
            + (f"\nAlert emails written to {outbox}/ ({len(emails)} .eml files)." if emails else "")
            + f"\nRun again with: sheetsync run --config {config_path}"
        )
    return code


def cmd_serve(args: argparse.Namespace) -> int:
    from sheetsync.service import serve_forever

    config = cfg.load_config(args.config)
    return serve_forever(config, args.config, workers=args.workers, shard=args.shard)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sheetsync",
        description="Score the OKRs and KPIs in your Excel and Google Sheets workbooks and "
        "write the results back.",
    )
    parser.add_argument("--version", action="version", version=f"sheetsync {__version__}")
    parser.add_argument(
        "--log-format", choices=["text", "json"], default="text", help="log line format"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def config_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default=DEFAULT_CONFIG, help="TOML config file")

    def run_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--workers", type=int, default=4, help="workbooks synced at once")
        p.add_argument(
            "--shard", help="I/N: run only shard I (0-based) of N, e.g. from a Kubernetes index"
        )

    p = sub.add_parser(
        "run",
        help="sync every configured workbook (the cron entry point)",
        description="Sync every workbook: score, write back, alert.\n\n"
        "Example: sheetsync run --config config/sheetsync.toml --as-of 2026-11-23",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config_arg(p)
    run_args(p)
    p.add_argument("--as-of", help="score as of this date (YYYY-MM-DD); default today")
    p.add_argument("--dry-run", action="store_true", help="compute and report, write nothing")
    p.add_argument("--json", action="store_true", help="print a machine-readable result")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "validate",
        help="read and validate only, listing every problem",
        description="Read and validate every workbook; write nothing.\n\n"
        "Example: sheetsync validate --config config/sheetsync.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config_arg(p)
    p.add_argument("--as-of", help="validate as of this date (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="print a machine-readable result")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "init",
        help="write a ready-to-edit template workbook",
        description="Write a template workbook with example OKRs and KPIs.\n\n"
        "Example: sheetsync init team-okrs.xlsx",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="the .xlsx file to create")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "demo",
        help="copy the example workbook and config into a folder and sync it",
        description="Try sheetsync without credentials.\n\nExample: sheetsync demo --dir demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dir", default="sheetsync-demo", help="where to put the demo")
    p.add_argument("--as-of", help="score as of this date (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="print a machine-readable result")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "serve",
        help="stay running and sync on the [schedule] in the config",
        description="Run the sync every day at [schedule] at/timezone; stop with Ctrl-C or "
        "SIGTERM.\n\nExample: sheetsync serve --config config/sheetsync.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config_arg(p)
    run_args(p)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sheetsync.ops.logsetup import setup_logging

    quiet = logging.INFO if args.command == "serve" else logging.WARNING
    setup_logging(args.log_format, logging.DEBUG if args.verbose else quiet)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"sheetsync: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except LockHeldError as exc:
        print(f"sheetsync: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except SheetsyncError as exc:
        print(f"sheetsync: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
