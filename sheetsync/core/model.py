"""Plain data the core works on: key results, KPIs, periods, statuses and problems.

Nothing here does I/O; every other layer passes these around.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

from sheetsync.core.units import GENERAL, NumberStyle, format_number

T = TypeVar("T")


def with_fields(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of the frozen dataclass `cls` holding `values` (fields left out take their
    defaults; a field with a default factory must be given; a class's first record is checked
    for unknown and missing fields).

    The same object `cls(**values)` makes, without its generated `__init__`, which sets each
    field through `object.__setattr__` (about 4 µs for a KeyResult's 27 fields): validation,
    scoring and History build one per row. No `__post_init__` is skipped: these classes have
    none.
    """
    known = _DEFAULTS.get(cls)
    if known is None:
        every = fields(cls)  # type: ignore[arg-type]
        defaults = {f.name: f.default for f in every if f.default is not MISSING}
        # Checked on a class's first record only (each class is built at one place, from a
        # literal): a misspelt or missing field would otherwise surface far away, when read.
        unknown = sorted(set(values) - {f.name for f in every})
        missing = sorted({f.name for f in every} - set(values) - set(defaults))
        if unknown or missing:
            raise TypeError(f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}")
        known = _DEFAULTS[cls] = (defaults, len(every))
    defaults, count = known
    made: T = object.__new__(cls)
    # Pairs, not a dict: `update(dict)` would turn the instance's compact shared-key dict into
    # a full one (three times the memory per record); pairs leave it as `__init__` does.
    made.__dict__.update((values if len(values) == count else {**defaults, **values}).items())
    return made


_DEFAULTS: dict[type, tuple[dict[str, Any], int]] = {}


class Colour(StrEnum):
    """The traffic-light fill sheetsync paints on Score and Status cells (RGB hex)."""

    GREEN = "C6EFCE"
    AMBER = "FFEB9C"
    RED = "FFC7CE"
    GREY = "D9D9D9"


class Status(StrEnum):
    """What a key result, objective or KPI looks like on the as-of date.

    The first four apply while a period runs; Achieved/Partly achieved/Missed grade a period
    that has ended; No data and Invalid say why there is nothing to judge.
    """

    DONE = "Done"
    ON_TRACK = "On track"
    AT_RISK = "At risk"
    OFF_TRACK = "Off track"
    ACHIEVED = "Achieved"
    PARTIAL = "Partly achieved"
    MISSED = "Missed"
    NO_DATA = "No data"
    INVALID = "Invalid"

    @property
    def colour(self) -> Colour:
        return _STATUS_COLOUR[self]

    @property
    def needs_attention(self) -> bool:
        """Red statuses: the ones alerts are about."""
        return self.colour is Colour.RED

    @classmethod
    def in_order(cls, counts: Mapping[Status, int]) -> list[tuple[Status, int]]:
        """The non-zero `counts` worst first (Off track, At risk, On track, Done, then the
        grades, No data, Invalid): every status breakdown reads in this one order."""
        return [(status, counts[status]) for status in _BREAKDOWN_ORDER if counts.get(status)]

    @classmethod
    def parse(cls, text: object) -> Status | None:
        """The status a cell shows, or None when the text is not one of ours."""
        if not isinstance(text, str):
            return None
        return _STATUS_BY_TEXT.get(text.strip().casefold())


_STATUS_BY_TEXT = {status.value.casefold(): status for status in Status}
"""How `Status.parse` finds a status: every History and Alerts row reads one back."""

_STATUS_COLOUR = {
    Status.DONE: Colour.GREEN,
    Status.ON_TRACK: Colour.GREEN,
    Status.ACHIEVED: Colour.GREEN,
    Status.AT_RISK: Colour.AMBER,
    Status.PARTIAL: Colour.AMBER,
    Status.OFF_TRACK: Colour.RED,
    Status.MISSED: Colour.RED,
    Status.NO_DATA: Colour.GREY,
    Status.INVALID: Colour.GREY,
}
_BREAKDOWN_ORDER = (
    Status.OFF_TRACK,
    Status.AT_RISK,
    Status.ON_TRACK,
    Status.DONE,
    Status.MISSED,
    Status.PARTIAL,
    Status.ACHIEVED,
    Status.NO_DATA,
    Status.INVALID,
)


class KrType(StrEnum):
    METRIC = "metric"
    MILESTONE = "milestone"
    STAY_ABOVE = "stay above"
    STAY_BELOW = "stay below"


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"


@dataclass(frozen=True)
class Period:
    """An inclusive date range a key result is measured over, with the label the sheet used."""

    start: date
    end: date
    label: str

    def expected_progress(self, as_of: date) -> float:
        """Share of the period elapsed at the end of `as_of` (0 before it starts, 1 after)."""
        if as_of < self.start:
            return 0.0
        if as_of >= self.end:
            return 1.0
        return ((as_of - self.start).days + 1) / ((self.end - self.start).days + 1)


@dataclass(frozen=True)
class Problem:
    """Something wrong with one cell, row or tab, located precisely enough to fix it."""

    tab: str
    cell: str | None
    value: object
    expected: str
    message: str
    row: int | None = None
    is_error: bool = True

    def describe(self, workbook: str | None = None) -> str:
        where = " ".join(p for p in (f"[{workbook}]" if workbook else None, self.tab) if p)
        if self.cell:
            where += f"!{self.cell}"
        found = "" if self.value is None else f" (found {self.value!r})"
        return f"{where}: {self.message}{found}; expected {self.expected}"


@dataclass(frozen=True)
class Confidence:
    """The owner's confidence: its points on the 1-10 scale, and the word when one was used."""

    points: float
    word: str | None = None

    def __str__(self) -> str:
        return self.word or f"{format_number(self.points)}/10"


@dataclass(frozen=True)
class Change:
    """A relative key result's `Change`: `+30%` (relative, 0.3) or `-2 h` (an amount, -2)."""

    amount: float
    relative: bool
    text: str


@dataclass(frozen=True)
class KeyResult:
    """One validated row of the OKRs tab."""

    row: int
    objective: str
    text: str
    type: KrType = KrType.METRIC
    id: str | None = None
    owner: str | None = None
    start: float = 0.0
    target: float | None = None
    current: float | None = None
    done: bool | None = None
    direction: Direction | None = None
    warning: float | None = None
    weight: float = 1.0
    period: Period | None = None
    kpi: str | None = None
    style: NumberStyle = GENERAL
    """How the person's cells show this key result's numbers (see `units.format_number`)."""
    start_style: NumberStyle | None = None
    """How the Start cell shows its number (None: as `style`): each cell in its own format."""
    target_style: NumberStyle | None = None
    """How the Target cell shows its number (None: as `style`): `2` stays `2` beside `3.6`."""
    override: Status | None = None
    """The owner's `Status override`: replaces the computed status until `override_until`."""
    override_until: date | None = None
    cadence_days: int | None = None
    """How often the row is updated (its `Cadence` column): the staleness rule waits this long."""
    team: str | None = None
    """The `Team` cell; blank means the team given on another of the objective's rows."""
    objective_owner: str | None = None
    """The `Objective owner` cell; the objective's owner is the first one given on its rows."""
    confidence: Confidence | None = None
    """The owner's `Confidence` at their last check-in (see `core.checkin`)."""
    checked_in: date | None = None
    """The `Updated` cell: the date of the owner's last check-in."""
    change: Change | None = None
    """A relative key result's `Change`: its Target comes from Start and this (`core.relative`)."""
    start_given: bool = True
    """Whether the Start cell had a value (without one, a relative key result uses History's)."""

    @cached_property
    def key(self) -> str:
        """Stable identity across runs: the ID when given, else objective and text (asked
        for several times per key result by scoring, History and alerts: kept once made)."""
        return self.id or f"{self.objective} / {self.text}"


@dataclass(frozen=True)
class SeriesPoint:
    """One period of a KPI scorecard: its value and its target (either may be blank)."""

    label: str
    period: Period
    value: float | None
    target: float | None = None


@dataclass(frozen=True)
class Kpi:
    """One validated row of the KPIs tab. `warning` is already resolved to a number.

    On a scorecard, `target` and `warning` are those of the period the Actual is judged in
    (`period`), and `series` holds every period column in time order.
    """

    row: int
    name: str
    higher_is_better: bool = True
    owner: str | None = None
    unit: str | None = None
    target: float | None = None
    warning: float | None = None
    actual: float | None = None
    style: NumberStyle = GENERAL
    target_style: NumberStyle | None = None
    """How the Target (or this period's Target row) cell shows its number (None: as `style`)."""
    warning_style: NumberStyle | None = None
    """How the Warning cell shows its number (None, as for a computed warning: as the target)."""
    """How the person's cells (and the Unit column) show this KPI's numbers."""
    period: str | None = None
    """The scorecard period the Actual was taken from (its header), if any."""
    cadence_days: int | None = None
    """How often a value is due: its scorecard period's length, or its `Cadence` column."""
    checked_in: date | None = None
    """The `Updated` cell: the date of the owner's last check-in."""
    series: tuple[SeriesPoint, ...] = ()

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class KeyResultScore:
    key_result: KeyResult
    score: float | None
    status: Status
    note: str = ""
    progress: float | None = None
    value: float | None = None
    expected: float | None = None
    """The value a metric on pace would have reached by the as-of date (None when not judged
    on pace): what an alert quotes when only time passed."""


@dataclass(frozen=True)
class KpiScore:
    kpi: Kpi
    status: Status
    note: str = ""


@dataclass(frozen=True)
class ObjectiveScore:
    name: str
    score: float | None
    status: Status
    counts: dict[Status, int] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class InvalidRow:
    """A row that failed validation: it is still written back, as Invalid with its Note."""

    tab: str
    row: int
    problems: tuple[Problem, ...]
    objective: str | None = None
    key: str | None = None
    owner: str | None = None
    team: str | None = None

    @property
    def note(self) -> str:
        return "; ".join(
            (f"{p.cell}: " if p.cell else "")
            + p.message
            + ("" if p.value is None else f" (found {p.value!r})")
            for p in self.problems
        )


@dataclass(frozen=True)
class ItemState:
    """One key result or KPI as the run saw it: the unit History records and alerts reason about."""

    kind: str  # "kr" or "kpi"
    key: str
    name: str
    status: Status
    objective: str | None = None
    owner: str | None = None
    value: float | None = None
    target: float | None = None
    score: float | None = None
    unit: str | None = None
    note: str = ""
    style: NumberStyle | None = None
    """How the person's cells show `value`: pass it to `units.format_number`."""
    target_style: NumberStyle | None = None
    """How the Target cell shows `target` (None: as `style`)."""
    expected: float | None = None
    """The value on pace by the as-of date (a metric key result within its period)."""
    confidence: float | None = None
    """The owner's confidence in points (1-10; see `core.checkin`), when they give one."""
    checked_in: date | None = None
    """The owner's last check-in (`Updated`): when given, staleness counts from it."""
    cadence_days: int | None = None
    """Days between expected updates (scorecard period or `Cadence` column); None: the
    `stale_after_days` setting decides when an unchanged value is stale."""
