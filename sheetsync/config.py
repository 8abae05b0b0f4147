"""TOML configuration -> typed settings, with errors that name the file and the key."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from sheetsync.config_schema import (
    Field,
    Table,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sheetsync.core.errors import ConfigError


class _Strict(Table):
    """Frozen, and a key it does not know is refused (`config_schema`)."""


class Tabs(_Strict):
    """Tab names, so a team can keep its own (`[tabs] okrs = "Goals"`)."""

    okrs: str = "OKRs"
    kpis: str = "KPIs"
    summary: str = "Summary"
    history: str = "History"
    alerts: str = "Alerts"
    state: str = "History state"
    """What History's decisions need of past runs, one row per spell of an item (`alerts.state`);
    read every night instead of History."""


class Outputs(_Strict):
    """sheetsync's own columns on the OKRs and KPIs tabs (Score, Status, Note, Trend)."""

    if_taken: str = Field(
        "{name} (sheetsync)",
        description="header of sheetsync's column when your tab already has a column of that "
        "name that sheetsync did not make; {name} is Score, Status, Note or Trend",
    )

    @field_validator("if_taken")
    @classmethod
    def _names_the_output(cls, text: str) -> str:
        if "{name}" not in text or not text.replace("{name}", "").strip():
            raise ValueError(
                'must contain {name} and more text, such as "{name} (sheetsync)" or '
                '"sheetsync {name}", so it differs from your own column\'s name'
            )
        try:
            text.format(name="Score")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{name}} may appear in braces ({exc})") from exc
        return text


HeaderOverrides = dict[str, list[str] | str]


class Headers(_Strict):
    """Extra header names per field, e.g. `[headers.okrs] current = ["This week"]`."""

    okrs: HeaderOverrides = Field(default_factory=dict)
    kpis: HeaderOverrides = Field(default_factory=dict)

    @field_validator("okrs", "kpis")
    @classmethod
    def _known_fields(cls, overrides: HeaderOverrides, info: ValidationInfo) -> HeaderOverrides:
        from sheetsync.core.layout import KPI_FIELDS, OKR_FIELDS

        fields = OKR_FIELDS if info.field_name == "okrs" else KPI_FIELDS
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise ValueError(
                f"unknown field {', '.join(repr(u) for u in unknown)}; "
                f"the fields are {', '.join(fields)}"
            )
        return overrides


class Scoring(_Strict):
    on_track: float = Field(1.0, gt=0, description="score/expected progress at or above: On track")
    at_risk: float = Field(0.75, ge=0, description="at or above: At risk; below: Off track")
    grade_green: float = Field(0.7, ge=0, le=1, description="after the period: Achieved")
    grade_amber: float = Field(0.4, ge=0, le=1, description="after the period: Partly achieved")
    kpi_warning_margin: float = Field(0.10, ge=0, description="default amber band for KPIs")
    grace_days: int = Field(
        14, ge=0, description="first days of a period in which pace is not judged"
    )
    objective_status: Literal["points", "weakest"] = Field(
        "points", description="an objective's status: status points, or its weakest key result"
    )
    default_period: str | None = Field(
        None, description="period for rows with a blank Period; default: the as-of quarter"
    )

    @field_validator("default_period")
    @classmethod
    def _period(cls, text: str | None) -> str | None:
        from sheetsync.core.parse import ParseError, parse_period

        if text is not None:
            try:
                parse_period(text)
            except ParseError as exc:
                raise ValueError(f"{exc}: expected {exc.expected}") from exc
        return text

    @model_validator(mode="after")
    def _ordered(self) -> Scoring:
        if self.at_risk > self.on_track:
            raise ValueError("at_risk must not be above on_track")
        if self.grade_amber > self.grade_green:
            raise ValueError("grade_amber must not be above grade_green")
        return self


class Parsing(_Strict):
    """How text numbers are read: `decimal = ","` for workbooks that write 4,5 and 80.000."""

    decimal: Literal[".", ","] | None = Field(
        None,
        description="the decimal separator of text numbers; unset: ambiguous text is refused",
    )


class Run(_Strict):
    """What makes `sheetsync run` exit 1."""

    invalid_rows: Literal["fail", "warn"] = Field(
        "fail",
        description='"warn": invalid rows are reported (output, Summary, owners\' alerts) but '
        "exit 0, so exit 1 and the heartbeat's failure ping mean the job itself is broken",
    )


class Excel(_Strict):
    backups: int = Field(1, ge=0, description="previous versions kept beside each file")
    max_part_mb: int = Field(
        100, ge=1, description="largest uncompressed part (a sheet, an image) read, in MB"
    )
    max_text_chars: int = Field(
        100_000, ge=1, description="longest text read from one cell (Excel holds 32,767)"
    )


class Google(_Strict):
    api_url: str | None = None
    credentials: str | None = None
    requests_per_minute: int = Field(50, gt=0)
    timeout: float = Field(30.0, gt=0)
    max_attempts: int = Field(6, ge=1)
    max_retry_seconds: float = Field(120.0, gt=0)


def _check_addresses(
    entries: list[str], key: str, owners: dict[str, str], allowed: list[str]
) -> None:
    """Each entry an address (or a name under [alerts.owners]) inside `allowed` domains."""
    from sheetsync.alerts.recipients import allowed_domain, split_addresses

    names = {" ".join(n.split()).casefold() for n in owners}
    for entry in entries:
        if " ".join(entry.split()).casefold() in names:
            continue
        for address in split_addresses(entry, key=key, names=True):
            if not allowed_domain(address, allowed):
                raise ValueError(
                    f"{key}: {address} is outside allowed_domains ({', '.join(allowed)})"
                )


def _check_channels(names: list[str], key: str, channels: dict[str, str]) -> None:
    for name in names:
        if name not in channels:
            known = ", ".join(sorted(channels)) or "none yet"
            raise ValueError(
                f"{key}: no channel {name!r} under [alerts.channels] (defined: {known})"
            )


class Team(_Strict):
    """A team's objectives and KPIs, and who hears about them (`[alerts.teams.sales]`)."""

    objectives: list[str] = Field(default_factory=list, description="objective names")
    kpis: list[str] = Field(default_factory=list, description="KPI names")
    summary_to: list[str] = Field(default_factory=list)
    chat: list[str] = Field(default_factory=list, description="channels, by name")

    @model_validator(mode="after")
    def _someone(self) -> Team:
        if not self.summary_to and not self.chat:
            raise ValueError("a team needs summary_to or chat (someone to tell)")
        return self


class Alerts(_Strict):
    enabled: bool = True
    alert_after: int = Field(1, ge=1)
    remind_every_days: int = Field(7, ge=0)
    notify_at_risk: bool = False
    notify_recovered: bool = True
    notify_improving: bool = Field(False, description="Off track easing to At risk")
    notify_wins: bool = Field(False, description="an item reaching Done or Achieved")
    notify_invalid: bool = Field(True, description="an item becoming Invalid, at once")
    notify_grades: bool = Field(True, description="each objective's final grade when it closes")
    notify_confidence: bool = Field(
        True, description="an owner's Confidence falling by 3 points or more (High -> Low)"
    )
    stale_after_days: int = Field(14, ge=0)
    history_days: int = Field(
        400,
        ge=0,
        description="days a spell of an item stays in the History state tab after it ended "
        "(History itself is never cut); 0 keeps all",
    )
    summary_to: list[str] = Field(default_factory=list)
    owners: dict[str, str] = Field(default_factory=dict)
    allowed_domains: list[str] = Field(
        default_factory=list, description="only these mail domains (and their subdomains)"
    )
    teams: dict[str, Team] = Field(
        default_factory=dict, description="summary_to per team, instead of the default"
    )
    channels: dict[str, str] = Field(
        default_factory=dict, description='chat channels: name = Apprise URL, or "env:VAR"'
    )
    chat: list[str] = Field(default_factory=list, description="channels told of everything")

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        cleaned = [d.strip().lstrip("@").rstrip(".").casefold() for d in domains]
        for domain in cleaned:
            if not domain or "." not in domain or any(c in domain for c in " @,;<>"):
                raise ValueError(f"{domain!r} is not a mail domain such as 'yourcompany.com'")
        return cleaned

    @model_validator(mode="after")
    def _addresses(self) -> Alerts:
        """Every address sheetsync could mail is checked here, before any night depends on it."""
        from sheetsync.alerts.recipients import allowed_domain, split_addresses

        for name, addresses in self.owners.items():
            for address in split_addresses(addresses, key=f"owners.{name!r}"):
                if not allowed_domain(address, self.allowed_domains):
                    raise ValueError(
                        f"owners.{name!r}: {address} is outside allowed_domains "
                        f"({', '.join(self.allowed_domains)})"
                    )
        _check_addresses(self.summary_to, "summary_to", self.owners, self.allowed_domains)
        for name, team in self.teams.items():
            key = f"teams.{name}.summary_to"
            _check_addresses(team.summary_to, key, self.owners, self.allowed_domains)
            _check_channels(team.chat, f"teams.{name}.chat", self.channels)
        _check_channels(self.chat, "chat", self.channels)
        for name, url in self.channels.items():
            if not re.fullmatch(r"[\w.-]+", name):
                raise ValueError(f"channels: {name!r}: use letters, digits, '-', '_' or '.'")
            if not url.startswith("env:") and "://" not in url:
                raise ValueError(
                    f"channels.{name}: expected an Apprise URL such as "
                    '"slack://TokenA/TokenB/TokenC" or "env:VARIABLE" holding one'
                )
        return self


class Email(_Strict):
    host: str = ""
    port: int = Field(587, gt=0, lt=65536)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    sender: str = "sheetsync@localhost"
    username: str | None = None
    password_env: str | None = "SHEETSYNC_SMTP_PASSWORD"
    password_file: str | None = None
    outbox: str = ""
    timeout: float = Field(30.0, gt=0, description="seconds for each SMTP command")
    deadline: float = Field(120.0, gt=0, description="seconds for the whole SMTP session of a run")
    allow_plaintext_auth: bool = False

    @field_validator("sender")
    @classmethod
    def _sender(cls, sender: str) -> str:
        from sheetsync.alerts.recipients import split_addresses

        [address] = split_addresses(sender, key="sender") or [""]
        if not address:
            raise ValueError("expected an e-mail address such as 'okr-bot@yourcompany.com'")
        return sender

    @model_validator(mode="after")
    def _no_password_in_the_clear(self) -> Email:
        if self.security == "none" and self.username and not self.allow_plaintext_auth:
            from sheetsync.alerts.recipients import is_loopback

            if self.host and not is_loopback(self.host):
                raise ValueError(
                    f'security = "none" with a username would send the password to {self.host} '
                    'unencrypted: use security = "starttls" or "ssl", or set '
                    "allow_plaintext_auth = true if the network is trusted"
                )
        return self


class Schedule(_Strict):
    at: str = "02:00"
    timezone: str = "UTC"
    heartbeat_url: str | None = None

    @field_validator("at", "timezone")
    @classmethod
    def _schedulable(cls, text: str, info: ValidationInfo) -> str:
        """Fail at load time (exit 2), not when `serve` first needs the value."""
        from sheetsync.ops.scheduler import load_zone, parse_at

        try:
            (parse_at if info.field_name == "at" else load_zone)(text)
        except ConfigError as exc:
            raise ValueError(exc.message) from exc
        return text

    @field_validator("heartbeat_url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("heartbeat_url must start with http:// or https://")
        return url


class Alignment(_Strict):
    """Cascading objectives: how a parent's score takes in its children's (README "Alignment")."""

    rollup: Literal["weighted", "mean"] = Field(
        "weighted", description="children count by their Objective weight, or 1 each"
    )
    stale_after_days: int = Field(
        2, ge=0, description="a child workbook synced longer ago than this is flagged stale"
    )


class Report(_Strict):
    """The report pages (`sheetsync report`, and `serve`): where they are published and served."""

    url: str | None = Field(
        None, description="where the pages are published; alert digests link each workbook there"
    )
    dir: str = Field("", description="serve: write the pages here after each run")
    port: int = Field(0, ge=0, lt=65536, description="serve: serve `dir` on this port; 0 = off")
    bind: str = Field("127.0.0.1", description="serve: the address the report server binds")

    @field_validator("url")
    @classmethod
    def _web_address(cls, url: str | None) -> str | None:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return url if not url or url.endswith("/") else url + "/"

    @model_validator(mode="after")
    def _port_needs_dir(self) -> Report:
        if self.port and not self.dir:
            raise ValueError("port needs dir: the folder whose pages are served")
        return self


class Workbook(_Strict):
    name: str
    path: str | None = None
    spreadsheet: str | None = None
    credentials: str | None = None
    tabs: Tabs | None = None
    headers: Headers | None = None
    schedule: Schedule | None = None
    parsing: Parsing | None = None
    children: list[str] = Field(
        default_factory=list,
        description="workbooks whose objectives may name a parent here (read from their Summary)",
    )
    summary_to: list[str] | None = Field(
        None, description="who gets this workbook's alert digests instead of [alerts] summary_to"
    )
    chat: list[str] | None = Field(
        None, description="chat channels told of this workbook instead of [alerts] chat"
    )

    @model_validator(mode="after")
    def _one_source(self) -> Workbook:
        if bool(self.path) == bool(self.spreadsheet):
            raise ValueError("give exactly one of 'path' (an .xlsx file) or 'spreadsheet' (Google)")
        return self

    @property
    def is_google(self) -> bool:
        return self.spreadsheet is not None


def default_state_dir(env: dict[str, str] | None = None) -> str:
    """systemd's `StateDirectory=` (it exports STATE_DIRECTORY) when set, else `.sheetsync`
    beside the config: a unit with ProtectSystem=strict can write nowhere else."""
    env = dict(os.environ) if env is None else env
    return env.get("STATE_DIRECTORY", "").split(":")[0] or ".sheetsync"


class Config(_Strict):
    workbooks: Annotated[list[Workbook], Field(min_length=1)]
    workbook_glob: list[str] = Field(default_factory=list)
    tabs: Tabs = Field(default_factory=Tabs)
    headers: Headers = Field(default_factory=Headers)
    outputs: Outputs = Field(default_factory=Outputs)
    scoring: Scoring = Field(default_factory=Scoring)
    parsing: Parsing = Field(default_factory=Parsing)
    run: Run = Field(default_factory=Run)
    excel: Excel = Field(default_factory=Excel)
    google: Google = Field(default_factory=Google)
    alerts: Alerts = Field(default_factory=Alerts)
    email: Email = Field(default_factory=Email)
    schedule: Schedule = Field(default_factory=Schedule)
    alignment: Alignment = Field(default_factory=Alignment)
    report: Report = Field(default_factory=Report)
    state_dir: str = Field(default_factory=lambda: default_state_dir())
    source: str = Field("", exclude=True)
    """The config file this came from; relative paths are resolved against its folder."""

    @field_validator("workbooks")
    @classmethod
    def _unique_names(cls, workbooks: list[Workbook]) -> list[Workbook]:
        seen: set[str] = set()
        for wb in workbooks:
            if wb.name in seen:
                raise ValueError(f"two workbooks are named '{wb.name}'; names must be unique")
            seen.add(wb.name)
        return workbooks

    @model_validator(mode="after")
    def _children_known_and_acyclic(self) -> Config:
        """A parent reads its children's Summary; a loop of workbooks would never settle."""
        names = {wb.name for wb in self.workbooks}
        for wb in self.workbooks:
            for child in wb.children:
                if child not in names:
                    raise ValueError(
                        f"workbook '{wb.name}' lists child '{child}', which is not a configured "
                        "workbook name"
                    )
                if child == wb.name:
                    raise ValueError(f"workbook '{wb.name}' lists itself as a child")
        children = {wb.name: wb.children for wb in self.workbooks}

        def visit(name: str, path: tuple[str, ...]) -> None:
            for child in children[name]:
                if child in path:
                    loop = " -> ".join((*path[path.index(child) :], child))
                    raise ValueError(f"workbooks' children form a loop: {loop}")
                visit(child, (*path, child))

        for wb in self.workbooks:
            visit(wb.name, (wb.name,))
        return self

    def parents_of(self, wb: Workbook) -> list[str]:
        """The workbooks that list `wb` among their children."""
        return [w.name for w in self.workbooks if wb.name in w.children]

    @model_validator(mode="after")
    def _each_workbook_once(self) -> Config:
        """The same file or spreadsheet twice would fight over its own History every night."""
        seen: dict[str, str] = {}
        for wb in self.workbooks:
            where = str(self.resolve(wb.path).resolve()) if wb.path else str(wb.spreadsheet)
            if where in seen:
                raise ValueError(
                    f"workbooks '{seen[where]}' and '{wb.name}' are the same workbook ({where})"
                )
            seen[where] = wb.name
        return self

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.source).parent / p

    @model_validator(mode="after")
    def _workbook_summary_to(self) -> Config:
        for i, wb in enumerate(self.workbooks):
            if wb.summary_to is not None:
                key = f"workbooks.{i}.summary_to"
                alerts = self.alerts
                _check_addresses(wb.summary_to, key, alerts.owners, alerts.allowed_domains)
            if wb.chat is not None:
                _check_channels(wb.chat, f"workbooks.{i}.chat", self.alerts.channels)
        return self

    def alerts_for(self, wb: Workbook) -> Alerts:
        """The [alerts] settings for one workbook: its own `summary_to`, when it has one."""
        update: dict[str, list[str]] = {}
        if wb.summary_to is not None:
            update["summary_to"] = list(wb.summary_to)
        if wb.chat is not None:
            update["chat"] = list(wb.chat)
        return self.alerts.model_copy(update=update) if update else self.alerts

    def tabs_for(self, wb: Workbook) -> Tabs:
        """The global [tabs], with what the workbook's own [workbooks.tabs] sets on top."""
        if wb.tabs is None:
            return self.tabs
        return self.tabs.model_copy(update=wb.tabs.model_dump(exclude_unset=True))

    def decimal_for(self, wb: Workbook, workbook_locale: str | None = None) -> str | None:
        """The decimal separator for `wb`'s text numbers, or None when nobody said.

        The workbook's own `[workbooks.parsing]` wins, then the locale the spreadsheet itself
        declares (Google Sheets), then the global `[parsing]`.
        """
        if wb.parsing is not None and wb.parsing.decimal is not None:
            return wb.parsing.decimal
        return workbook_locale or self.parsing.decimal

    def headers_for(self, wb: Workbook) -> Headers:
        if not wb.headers:
            return self.headers
        return Headers(
            okrs={**self.headers.okrs, **wb.headers.okrs},
            kpis={**self.headers.kpis, **wb.headers.kpis},
        )


def load_config(path: str | Path) -> Config:
    """Read and check a TOML config; raise ConfigError naming the file and the key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("config file not found", path=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config: {exc}", path=str(path)) from exc
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], *, source: str = "<config>") -> Config:
    raw = _expand_globs(raw, source)
    try:
        return Config.model_validate({**raw, "source": source})
    except ValidationError as exc:
        from sheetsync.config_messages import config_error  # difflib, json: only for mistakes

        raise config_error(exc, raw, model=Config, source=source) from exc


def _expand_globs(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """`workbook_glob = ["reports/*.xlsx"]` adds one Excel workbook per matching file."""
    patterns = raw.get("workbook_glob") or []
    if not isinstance(patterns, list):
        raise ConfigError("must be a list of glob patterns", path=source, key="workbook_glob")
    base = Path(source).parent
    workbooks = list(raw.get("workbooks") or [])
    known = {
        (base / str(w["path"])).resolve()
        for w in workbooks
        if isinstance(w, dict) and isinstance(w.get("path"), str)
    }
    for pattern in patterns:
        for match in sorted(base.glob(pattern)):
            if match.name.startswith(("~$", ".~lock")) or match.resolve() in known:
                continue
            known.add(match.resolve())
            rel = str(match.relative_to(base)) if match.is_relative_to(base) else str(match)
            workbooks.append({"name": rel, "path": rel})
    return {**raw, "workbooks": workbooks}
