"""The `sheetsync` command: a thin layer that builds the run, calls the library, maps errors.

Exit codes (for cron): 0 every workbook synced and valid; 1 a workbook failed, has invalid
rows, or an alert could not be delivered; 2 the configuration is wrong; 3 another run holds
the lock.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sheetsync import __version__
from sheetsync.core.errors import ConfigError, LockHeldError, SheetsyncError

# Every process starts here, `--version` and `--help` included: what a command needs (the
# config, the runner, the backends, rich) is imported by that command.
if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from sheetsync.core.model import Status
    from sheetsync.runner import RunReport
    from sheetsync.sync import WorkbookReport

DEFAULT_CONFIG = "config/sheetsync.toml"
MAX_PROBLEMS_SHOWN = 20
EXIT_CONFIG, EXIT_LOCKED = 2, 3
"""Exit codes only the command line returns (a run's own 0 or 1: `RunReport.exit_code`)."""


def _console() -> Console:
    from rich.console import Console  # only what prints a table or coloured lines needs rich

    # markup=False: cell values and tab names are printed as they are, `[x]` included.
    return Console(highlight=False, soft_wrap=True, markup=False)


def _status_counts(counts: Mapping[Status, int]) -> str:
    from sheetsync.core.model import Status

    return ", ".join(f"{n} {s.value.lower()}" for s, n in Status.in_order(counts)) or "none"


def print_report(
    report: RunReport,
    console: Console,
    *,
    all_problems: bool = False,
    layouts: bool = False,
    demo: bool = False,
) -> None:
    """The run's table, problems and alerts; `demo` says once that the rows are the demo's
    examples instead of warning per tab that they are still the template's."""
    from rich.table import Table
    from rich.text import Text

    what = {"run": "", "dry run": "dry run ", "validate": "validate "}[report.mode]
    table = Table(title=f"sheetsync {what}as of {report.as_of}")
    for col in ("Workbook", "Objectives", "Key results", "KPIs", "Result"):
        table.add_column(col, overflow="fold")
    for w in report.workbooks:
        table.add_row(
            Text(w.name),
            _status_counts(w.objective_statuses),
            _status_counts(w.key_results),
            _status_counts(w.kpis),
            _result(w, report.mode),
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
            if demo and warning in w.example_rows:
                continue
            console.print(Text.assemble("  ", ("warning", "yellow"), f": {warning}"))
        if layouts and w.layouts:
            console.print(Text.assemble(("How ", "dim"), (w.name, "bold"), (" was read:", "dim")))
            for layout in w.layouts:
                console.print(f"  {layout.describe()}")
        for problem in w.recipient_problems:
            console.print(Text.assemble("  ", ("!", "yellow"), f" [{w.name}] alerts: {problem}"))
    if demo and any(w.example_rows for w in report.workbooks):
        console.print(
            "The demo's rows are examples owned by people @example.com, a domain reserved for "
            "examples: their alert emails are written to the outbox for you to open, and reach "
            "no one."
        )
    for problem in report.setting_problems:
        console.print(Text.assemble(("✗ alert settings", "red"), f": {problem}"))
    if report.invalid_rows and report.mode != "validate" and not report.invalid_rows_fail:
        console.print(
            f"{report.invalid_rows} invalid rows do not fail the run ([run] invalid_rows = "
            '"warn"): each has its problem in the Note column and on Summary.'
        )
    if report.mode == "validate" and not report.mail_configured:
        console.print(
            "Alerts: no mail server configured ([email] host or outbox): alerts are logged in "
            "the Alerts tab but not sent, and the owners above are not checked strictly."
        )
    if report.mode == "dry run":
        console.print(_would_send(report))
        if report.previews:
            folder = Path(report.previews[0]).parent
            console.print(
                f"The e-mails it would send are in {folder}/ ({len(report.previews)} files)."
            )
    elif report.alerts_sent or report.alerts_failed or report.alerts_pending:
        done = f"written to the outbox {report.outbox}/" if report.outbox else "sent"
        line = f"Alerts: {_count(report.alerts_sent, 'email')} {done}"
        if report.alerts_failed:
            line += f", {report.alerts_failed} refused for good"
        if report.alerts_pending:
            line += (
                f"; {_count(report.alerts_pending, 'alert')} still pending "
                "(tried again on the next run)"
            )
        console.print(line)
    for error in report.alert_errors:
        console.print(Text.assemble(("✗ alerts", "red"), f": {error}"))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _would_send(report: RunReport) -> str:
    if not report.would_send:
        return "Dry run: no alert would be sent; nothing was sent or recorded."
    people = _count(report.would_reach, "person").replace("persons", "people")
    channels = f" and {_count(report.would_post, 'chat channel')}" if report.would_post else ""
    return (
        f"Dry run: would send {_count(report.would_send, 'alert')} to {people}{channels}; "
        "nothing was sent or recorded."
    )


def _result(w: WorkbookReport, mode: str) -> Text:
    from rich.text import Text

    if w.error:
        return Text("failed", style="red")
    text = Text()
    if w.invalid_rows:
        text.append(f"{w.invalid_rows} invalid row{'s' * (w.invalid_rows > 1)}", style="yellow")
        text.append("; ")
    if mode == "validate":
        text.append("checked, nothing written")
    elif mode == "dry run":
        text.append("not written (dry run)")
    else:
        text.append(f"{w.cells_changed} cells updated" if w.wrote else "already up to date")
    return text


def _as_of(args: argparse.Namespace) -> date:
    return args.as_of or date.today()


def cmd_run(args: argparse.Namespace) -> int:
    return _run(args)[0]


def _run(args: argparse.Namespace, *, demo: bool = False) -> tuple[int, RunReport]:
    import threading

    from sheetsync.config import load_config
    from sheetsync.warm import start_workers_early

    config = load_config(args.config)
    # Worker processes' imports (in their fork server) run beside this process's own below.
    start_workers_early(config, args.workers, args.shard)

    from sheetsync.ops.alive import alive_file
    from sheetsync.ops.alive import mark as mark_alive
    from sheetsync.ops.scheduler import StopOnSignals
    from sheetsync.service import execute_run

    mark_alive(alive_file(), "running")
    stop = threading.Event()
    # SIGTERM (systemd, Kubernetes) ends the run after the workbooks in hand, not mid-write.
    with StopOnSignals(stop):
        preview = getattr(args, "preview", None)
        report = execute_run(
            config,
            as_of=_as_of(args),
            now=datetime.now().astimezone(),
            dry_run=args.dry_run or bool(preview),
            preview=str(Path(preview).resolve()) if preview else None,
            workers=args.workers,
            shard=args.shard,
            progress=not args.json and sys.stderr.isatty(),
            stop=stop,
        )
    if args.json:
        print(report.dumps())
    else:
        print_report(report, _console(), demo=demo)
    return report.exit_code, report


def cmd_validate(args: argparse.Namespace) -> int:
    from sheetsync.config import load_config
    from sheetsync.runner import alert_setting_problems, run_all

    config = load_config(args.config)
    report = run_all(
        config,
        as_of=_as_of(args),
        now=datetime.now().astimezone(),
        dry_run=True,
        alerts=False,
        check_recipients=True,
    )
    report.mode = "validate"
    report.setting_problems = alert_setting_problems(config)
    mail = config.email.host or config.email.outbox
    report.mail_configured = bool(mail) or not config.alerts.enabled
    if args.json:
        print(report.dumps())
    else:
        print_report(report, _console(), all_problems=True, layouts=True)
    return report.exit_code


def cmd_init(args: argparse.Namespace) -> int:
    from sheetsync.template import write_template

    try:
        path = write_template(args.path)
    except (FileExistsError, ValueError) as exc:
        print(f"sheetsync: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    _console().print(
        f"Wrote {path}: edit the OKRs and KPIs tabs, then add it to your config:\n\n"
        f'[[workbooks]]\nname = "{path.stem}"\npath = "{path.resolve()}"'
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import shutil
    from importlib import resources

    from sheetsync.config import load_config
    from sheetsync.runner import write_report
    from sheetsync.template import write_team_example, write_template

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "sheetsync.toml"
    workbook = folder / "okrs-demo.xlsx"
    if not config_path.exists():
        shutil.copyfile(str(resources.files("sheetsync") / "demo" / "sheetsync.toml"), config_path)
    if not workbook.exists():
        write_template(workbook, args.as_of)
    team = folder / "team-demo.xlsx"
    if not team.exists():
        write_team_example(team, "Company OKRs (demo)", args.as_of)
    console = _console()
    if not args.json:  # stdout is the JSON document alone
        console.print(f"Demo workbooks and config in {folder.resolve()}/\n")
    args.config, args.dry_run, args.workers, args.shard = str(config_path), False, 1, None
    args.preview = None
    code, report = _run(args, demo=True)
    written, _ = write_report(
        load_config(config_path),
        folder / "report",
        as_of=_as_of(args),
        now=datetime.now().astimezone(),
    )
    if not args.json:
        outbox = folder / "outbox"
        if report.alerts_sent:
            emails = f"\nThis run wrote {_count(report.alerts_sent, 'alert email')} to {outbox}/."
        else:
            earlier = len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0
            emails = "\nThis run had no new alert to send" + (
                f" ({_count(earlier, 'email')} from earlier runs in {outbox}/)." if earlier else "."
            )
        console.print(
            f"\nOpen {workbook} to see the Score, Status and Note columns and the Summary tab;"
            f"\n{team} cascades into it (see the Alignment tree on either Summary tab)."
            f"\nThe report page: {folder / 'report' / 'index.html'} ({len(written)} pages)."
            + emails
            + f"\nRun again with: {_run_again(args, config_path)}"
        )
    return code


def _run_again(args: argparse.Namespace, config_path: Path) -> str:
    """The `run` command line for this demo, runnable as typed: the program as it was started
    when `sheetsync` on PATH is another one (or none, as in a venv not activated)."""
    import shlex
    import shutil

    program = sys.argv[0]
    on_path = shutil.which("sheetsync")
    if not program or Path(program).name != "sheetsync":
        program = "sheetsync"
    elif on_path is None or Path(on_path).resolve() != Path(program).resolve():
        program = shlex.quote(program)
    else:
        program = "sheetsync"
    as_of = f" --as-of {args.as_of}" if args.as_of else ""
    return f"{program} run --config {shlex.quote(str(config_path))}{as_of}"


def cmd_report(args: argparse.Namespace) -> int:
    from rich.text import Text

    from sheetsync.config import load_config
    from sheetsync.service import execute_report

    config = load_config(args.config)
    written, reports = execute_report(
        config,
        Path(args.out),
        as_of=_as_of(args),
        now=datetime.now().astimezone(),
        workers=args.workers,
        shard=args.shard,
    )
    console = _console()
    for w in reports:
        if w.error:
            console.print(Text.assemble(("✗ ", "red"), (w.name, "red"), f": {w.error}"))
    console.print(f"Wrote {len(written)} pages to {Path(args.out).resolve()}/ (open index.html)")
    return 1 if any(w.error for w in reports) else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from sheetsync.config import load_config
    from sheetsync.service import serve_forever

    config = load_config(args.config)
    return serve_forever(config, args.config, workers=args.workers, shard=args.shard)


RUN_EXIT_CODES = {
    0: 'every workbook synced, no invalid rows (or [run] invalid_rows = "warn"), every alert '
    "handed to the mail server or outbox",
    1: "a workbook failed, has invalid rows, or an alert is still pending or was refused (the "
    "run says why; pending alerts are tried again next run); the other workbooks were still "
    "synced",
    2: "the command line or the configuration is wrong (the message names the file and key)",
    3: "another sheetsync run holds the lock; this one did nothing",
}


# NamedTuples rather than dataclasses: `--version` and `--help` then import neither dataclasses
# nor inspect (the commands themselves import them soon enough).
class Option(NamedTuple):
    """One command-line option, accepted before or after the command name."""

    flags: tuple[str, ...]
    help: str
    default: Any = None
    shown_default: str | None = None
    """What the help says the default is, when that is not `default` itself."""
    kwargs: Mapping[str, Any] = {}

    @property
    def dest(self) -> str:
        return self.flags[-1].lstrip("-").replace("-", "_")

    def help_text(self) -> str:
        default = self.shown_default or (
            self.default if self.default not in (None, False) else None
        )
        return f"{self.help} (default: {default})" if default else self.help


def _whole_number_at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1 or str(number) != text.strip():
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return number


def _shard(text: str) -> str:
    from sheetsync.ops.shard import parse_shard

    try:
        parse_shard(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.message.removeprefix("--shard ")) from None
    return text


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-11-23, not {text!r}") from None


OPTIONS = {
    option.dest: option
    for option in (
        Option(("--config",), "the TOML config file", DEFAULT_CONFIG, kwargs={"metavar": "FILE"}),
        Option(
            ("--workers",),
            "workbooks worked on at once, each in its own process",
            None,
            shown_default="the CPUs this process may use, at most 4",
            kwargs={"type": _whole_number_at_least_one, "metavar": "N"},
        ),
        Option(
            ("--shard",),
            "run only shard I (from 0) of N, e.g. $(JOB_COMPLETION_INDEX)/4 in Kubernetes",
            kwargs={"type": _shard, "metavar": "I/N"},
        ),
        Option(
            ("--as-of",),
            "score as of this date",
            shown_default="today",
            kwargs={"type": _date, "metavar": "YYYY-MM-DD"},
        ),
        Option(
            ("--dry-run",),
            "compute and report what a run would do; write, send and record nothing",
            False,
        ),
        Option(
            ("--preview",),
            "write the alert e-mails a dry run would send to this folder (implies --dry-run)",
            kwargs={"metavar": "DIR"},
        ),
        Option(("--json",), "print a machine-readable result on stdout", False),
        Option(("--dir",), "the folder for the demo", "sheetsync-demo"),
        Option(
            ("--out",),
            "the folder for the report pages",
            "sheetsync-report",
            kwargs={"metavar": "DIR"},
        ),
        Option(
            ("--log-format",),
            "log lines on stderr: text for people, json for log collectors",
            "text",
            kwargs={"choices": ["text", "json"]},
        ),
        Option(("-v", "--verbose"), "debug logging", False),
    )
}
GLOBAL_OPTIONS = ("config", "log_format", "verbose")
"""Shown in the top-level help; every option is accepted before the command name too."""


class Command(NamedTuple):
    name: str
    func: Callable[[argparse.Namespace], int]
    summary: str
    description: str
    example: str
    options: tuple[str, ...]
    exit_codes: dict[int, str]


COMMANDS = (
    Command(
        "run",
        cmd_run,
        "sync every configured workbook (the cron entry point)",
        "Sync every workbook: score, write back, alert.",
        "sheetsync run --config /etc/sheetsync/sheetsync.toml --log-format json",
        ("config", "as_of", "dry_run", "preview", "json", "workers", "shard"),
        RUN_EXIT_CODES,
    ),
    Command(
        "validate",
        cmd_validate,
        "read and validate only, listing every problem",
        "Read and validate every workbook, the mail settings and every Owner cell; write and "
        "send nothing. Invalid rows always exit 1 here.",
        "sheetsync validate --config config/sheetsync.toml",
        ("config", "as_of", "json"),
        {
            0: "every workbook read and valid",
            1: "a workbook failed or has invalid rows, or a mail setting or Owner would lose "
            "alerts (listed)",
            2: RUN_EXIT_CODES[2],
        },
    ),
    Command(
        "init",
        cmd_init,
        "write a ready-to-edit template workbook",
        "Write a template workbook with dropdowns and example OKRs and KPIs.",
        "sheetsync init team-okrs.xlsx",
        (),
        {0: "the template was written", 2: "the file already exists (it is never overwritten)"},
    ),
    Command(
        "demo",
        cmd_demo,
        "copy the example workbook and config into a folder and sync it",
        "Try sheetsync without credentials or a mail server.",
        "sheetsync demo --dir sheetsync-demo",
        ("dir", "as_of", "json"),
        {0: "the demo synced", 1: RUN_EXIT_CODES[1], 2: RUN_EXIT_CODES[2], 3: RUN_EXIT_CODES[3]},
    ),
    Command(
        "report",
        cmd_report,
        "write the report pages: one HTML page per workbook and an index",
        "Read and score every workbook (writing none of them) and write one self-contained "
        "HTML page per workbook plus index.html: the alignment tree, key results, KPIs and "
        "problems. With --shard, only that shard's workbooks; the index lists them all.",
        "sheetsync report --config config/sheetsync.toml --out /var/www/okrs",
        ("config", "out", "as_of", "workers", "shard"),
        {
            0: "every page written",
            1: "a workbook could not be read (its page says why; the others were written)",
            2: RUN_EXIT_CODES[2],
        },
    ),
    Command(
        "serve",
        cmd_serve,
        "stay running and sync on the [schedule] in the config",
        "Run the sync every day at [schedule] at/timezone; stop with Ctrl-C or SIGTERM.",
        "sheetsync serve --config /etc/sheetsync/sheetsync.toml --log-format json",
        ("config", "workers", "shard"),
        {
            0: "stopped by SIGTERM or Ctrl-C (a failing nightly run is logged, not an exit)",
            2: RUN_EXIT_CODES[2],
        },
    ),
)


def _add(parser: argparse.ArgumentParser, option: Option, *, top_level: bool) -> None:
    """Add an option; unless given, it leaves no value, so the other position's value stands."""
    shown = not top_level or option.dest in GLOBAL_OPTIONS
    parser.add_argument(
        *option.flags,
        dest=option.dest,
        default=argparse.SUPPRESS,
        help=option.help_text() if shown else argparse.SUPPRESS,
        **({"action": "store_true"} if option.default is False else option.kwargs),
    )


def build_parser() -> argparse.ArgumentParser:
    """The `sheetsync` parser: every option works before or after the command name."""
    parser = argparse.ArgumentParser(
        prog="sheetsync",
        description="Score the OKRs and KPIs in your Excel and Google Sheets workbooks and "
        "write the results back.",
        epilog="Every option may come before or after the command name.\n\n"
        + _exit_codes_text(RUN_EXIT_CODES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sheetsync {__version__}")
    for option in OPTIONS.values():
        _add(parser, option, top_level=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(
            command.name,
            help=command.summary,
            description=f"{command.description}\n\nExample: {command.example}",
            epilog=_exit_codes_text(command.exit_codes),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if command.name == "init":
            p.add_argument("path", help="the .xlsx file to create (never overwritten)")
        for name in (*command.options, "log_format", "verbose"):
            _add(p, OPTIONS[name], top_level=False)
        p.set_defaults(func=command.func)
    return parser


def _exit_codes_text(codes: dict[int, str]) -> str:
    lines = (
        textwrap.fill(text, 78, initial_indent=f"  {code}  ", subsequent_indent="     ")
        for code, text in codes.items()
    )
    return "exit codes:\n" + "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; refuse options the chosen command does not take."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    command = next(c for c in COMMANDS if c.name == args.command)
    allowed = {*command.options, "log_format", "verbose"}
    flags = {flag: option for option in OPTIONS.values() for flag in option.flags}
    for word in extra:  # an option another command takes: said the same on either side
        option = flags.get(word.split("=", 1)[0])
        if option is not None:
            parser.error(f"{command.name} takes no {option.flags[-1]}")
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    for name, option in OPTIONS.items():
        if name not in allowed and hasattr(args, name):
            parser.error(f"{command.name} takes no {option.flags[-1]}")
        if not hasattr(args, name):
            setattr(args, name, option.default)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import logging

    from sheetsync.ops.logsetup import setup_logging

    quiet = logging.INFO if args.command == "serve" else logging.WARNING
    setup_logging(args.log_format, logging.DEBUG if args.verbose else quiet)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for line in str(exc).splitlines():
            print(f"sheetsync: configuration error: {line}", file=sys.stderr)
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
