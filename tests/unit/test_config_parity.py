"""`config_schema` reads every config value as pydantic (v2, lax mode) does: a differential test.

`config_schema` is a hand-written copy of the part of pydantic the config uses (for start-up
speed), so it must not drift from it. For each config table, the same class body is built
again on pydantic's `BaseModel` (annotations, defaults, bounds, validators and methods taken
from the table itself, nested tables swapped for their pydantic twins), and random values
(numbers as text, Unicode digits, underscores, whitespace, floats, switches, None, dates, lists,
nested tables, unknown keys) must give the same settings or the same error records, which
`config_messages` words for the user. pydantic is a test-only dependency.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import sys
import types
import typing
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetsync import config
from sheetsync.config_schema import Field, FieldInfo, Table, ValidationError, field_validator

CONFIG_TABLES = sorted(
    (
        klass
        for klass in vars(config).values()
        if isinstance(klass, type)
        and issubclass(klass, Table)
        and getattr(klass, "model_fields", None)
    ),
    key=lambda klass: klass.__name__,
)

_TABLE_ONLY = {"model_fields", "_field_checks", "_table_checks", "_resolved", "__dict__"}
_TABLE_ONLY |= {"__weakref__", "__annotations__", "__module__", "__qualname__"}


# --- the same table, on pydantic ----------------------------------------------------------


@cache
def twin(table: type[Table]) -> type[pydantic.BaseModel]:
    """`table`'s class body again, on pydantic: pydantic decides what is a setting."""
    bases = tuple(twin(b) for b in table.__bases__ if issubclass(b, Table) and b is not Table)
    module = vars(sys.modules[table.__module__])
    namespace: dict[str, Any] = {"__module__": table.__module__, "__annotations__": {}}
    if not bases:
        namespace["model_config"] = pydantic.ConfigDict(extra="forbid", frozen=True)
    for name, text in inspect.get_annotations(table).items():
        if name.startswith("_") or name == "model_fields":
            continue
        annotation = eval(text, module) if isinstance(text, str) else text
        namespace["__annotations__"][name] = _swapped(annotation)
        if name in table.__dict__:
            namespace[name] = _pydantic_default(table.__dict__[name])
        elif name in table.model_fields and not table.model_fields[name].required:
            namespace[name] = _pydantic_default(table.model_fields[name])
    for name, attr in table.__dict__.items():
        if name in _TABLE_ONLY or name in namespace:
            continue
        func = getattr(attr, "__func__", attr)
        if getattr(func, "_checks_fields", None):
            namespace[name] = pydantic.field_validator(*func._checks_fields)(attr)
        elif getattr(func, "_checks_table", None):
            namespace[name] = pydantic.model_validator(mode=func._checks_table)(attr)
        else:
            namespace[name] = attr
    base = bases or (pydantic.BaseModel,)
    return types.new_class(table.__name__, base, exec_body=lambda ns: ns.update(namespace))


def _pydantic_default(value: Any) -> Any:
    if not isinstance(value, FieldInfo):
        return value
    kwargs: dict[str, Any] = {k: v for k, v in value.bounds.items() if v is not None}
    if value.default_factory is not None:
        kwargs["default_factory"] = value.default_factory
    elif value.default is not ...:
        kwargs["default"] = value.default
    if value.min_length is not None:
        kwargs["min_length"] = value.min_length
    return pydantic.Field(description=value.description, exclude=value.exclude, **kwargs)


def _swapped(annotation: Any) -> Any:
    """`annotation` with each table in it replaced by its pydantic twin."""
    if isinstance(annotation, type) and issubclass(annotation, Table):
        return twin(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is None or origin is Literal:
        return annotation
    if origin is Annotated:
        meta = [_pydantic_default(m) for m in annotation.__metadata__]
        return Annotated[(_swapped(args[0]), *meta)]  # type: ignore[valid-type]
    if origin in (Union, types.UnionType):
        return Union[tuple(_swapped(a) for a in args)]  # noqa: UP007
    if origin is ClassVar:
        return annotation
    return origin[tuple(_swapped(a) for a in args)]


# --- what each side makes of the same data ------------------------------------------------


def outcome(model: Any, data: Any, *, by_keywords: bool = False) -> tuple[Any, ...]:
    """The settings read (as plain data, types shown) or the error records, comparably; from
    `model_validate(data)` as a config file is read, or `model(**data)` as code builds one."""
    errors: Any = (ValidationError, pydantic.ValidationError)
    try:
        settings = model(**data) if by_keywords else model.model_validate(data)
    except errors as exc:
        return ("refused", [_record(e) for e in exc.errors()])
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    return (
        "read",
        repr(settings.model_dump()),
        repr(settings.model_dump(exclude_unset=True)),
        sorted(settings.model_fields_set),
    )


def _record(error: dict[str, Any]) -> tuple[Any, ...]:
    ctx = {
        key: (type(v).__name__, str(v)) if isinstance(v, Exception) else repr(v)
        for key, v in (error.get("ctx") or {}).items()
    }
    return (error["type"], tuple(error["loc"]), error["msg"], ctx)


# --- random values --------------------------------------------------------------------------

_SPACES = [" ", "\t", "\n", "\xa0", "\u2028", "\u3000", "\x1c", "\x1f", "\x85", "\u200b"]
_DIGITS = "0123456789" * 4 + "٣١۵१３¹²_"
_WORDS = ["inf", "Infinity", "nan", "NaN", "yes", "No", "on", "OFF", "t", "f", "true", "İ", "K"]

_digits = st.text(alphabet=_DIGITS, min_size=0, max_size=5)
_number_text = st.builds(
    lambda lead, sign, whole, dot, fraction, exponent, trail: (
        f"{lead}{sign}{whole}{dot}{fraction}{exponent}{trail}"
    ),
    st.sampled_from(["", "", "", *_SPACES]),
    st.sampled_from(["", "", "+", "-", "+-", "--", "_"]),
    _digits,
    st.sampled_from(["", "", ".", "._", "..", ","]),
    _digits,
    st.sampled_from(["", "", "", "e3", "E-2", "e", "e+_1", "e٣"]),
    st.sampled_from(["", "", "", "_", *_SPACES]),
)
_words = st.builds(
    lambda lead, sign, word, trail: f"{lead}{sign}{word}{trail}",
    st.sampled_from(["", "", " "]),
    st.sampled_from(["", "", "+", "-"]),
    st.sampled_from(_WORDS),
    st.sampled_from(["", "", " ", "\n"]),
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 2, 65535, 65536, 2**63 - 1, -(2**63), 2**63, 10**400]),
    st.floats(),
    st.sampled_from([0.0, -0.0, 1.0, 0.5, 1.5, 2.0, 9.3e18, -9.3e18, 1e300]),
    _number_text,
    _words,
    st.text(max_size=8),
    st.sampled_from(["", "OKRs", "{name} (sheetsync)", "02:00", "Europe/Berlin", "a@b.co"]),
    st.dates(),
    st.just(dt.datetime(2026, 1, 2, 3, 4)),
    st.just(dt.time(2, 0)),
)
_anything = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def values_for(annotation: Any) -> st.SearchStrategy[Any]:
    """Values aimed at `annotation` (near misses included), mixed with anything at all."""
    return st.one_of(_aimed_at(annotation), _anything)


def _aimed_at(annotation: Any) -> st.SearchStrategy[Any]:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _aimed_at(args[0])
    if origin in (Union, types.UnionType):
        return st.one_of([_aimed_at(a) for a in args])
    if origin is Literal:
        return st.sampled_from(args) | st.sampled_from(args).map(lambda a: f" {a}".upper())
    if origin is list:
        return st.lists(values_for(args[0]), max_size=3) | st.tuples(values_for(args[0]))
    if origin is dict:
        keys = st.text(max_size=6) | st.integers(0, 3)
        return st.dictionaries(keys, values_for(args[1]), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, Table):
        return tables_of(annotation)
    if annotation is type(None):
        return st.none()
    if annotation in (int, float):
        return st.one_of(_number_text, st.integers(), st.floats(), _words)
    return _scalars


@cache
def tables_of(table: type[Table]) -> st.SearchStrategy[dict[Any, Any]]:
    """A table's data as TOML gives it: some of its keys, sometimes unknown keys too."""
    table._resolve()
    known = {
        name: st.deferred(lambda f=field: values_for(f.annotation))
        for name, field in table.model_fields.items()
    }
    unknown = st.dictionaries(st.sampled_from(["colour", "port", "okrs", "name", "0"]), _anything)
    return st.builds(
        lambda given, extra, keep_required: {
            **({k: v for k, v in extra.items() if k not in given}),
            **given,
            **(_required_defaults(table) if keep_required else {}),
        },
        st.fixed_dictionaries({}, optional=known),
        unknown | st.just({}),
        st.booleans(),
    )


def _required_defaults(table: type[Table]) -> dict[str, Any]:
    """Plausible values for required keys, so that not every example stops at 'missing'."""
    plausible = {"name": "team", "workbooks": [{"name": "team", "path": "team.xlsx"}]}
    return {n: plausible[n] for n, f in table.model_fields.items() if f.required and n in plausible}


def assert_same_reading(table: type[Table], data: Any) -> None:
    assert outcome(table, data) == outcome(twin(table), data), data
    if isinstance(data, dict) and all(isinstance(key, str) for key in data):
        by_keywords = outcome(twin(table), data, by_keywords=True)
        assert outcome(table, data, by_keywords=True) == by_keywords, data


# --- the tests ------------------------------------------------------------------------------


def test_every_config_table_has_the_same_settings_as_on_pydantic():
    assert len(CONFIG_TABLES) >= 16
    for table in CONFIG_TABLES:
        assert list(table.model_fields) == list(twin(table).model_fields), table.__name__


@pytest.mark.parametrize("table", CONFIG_TABLES, ids=lambda t: t.__name__)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_config_table_reads_random_values_as_pydantic_does(table, data):
    assert_same_reading(table, data.draw(tables_of(table)))


@settings(max_examples=1500, deadline=None)
@given(value=values_for(float) | values_for(int) | values_for(bool))
def test_numbers_and_switches_are_read_as_pydantic_reads_them(value):
    assert_same_reading(_Scalars, {"count": value, "ratio": value, "switch": value})
    assert_same_reading(_Scalars, {"bounded": value, "maybe": value, "either": value})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ratio", "٣"),  # a non-ASCII digit: Python's float() reads it, pydantic does not
        ("ratio", "1٣"),
        ("count", "١٢"),
        ("ratio", " 1_000"),  # underscores and whitespace: pydantic strips only one of them
        ("ratio", "1._0"),
        ("count", "1."),  # a whole number needs its zeros after the point
        ("count", "\x1c5"),  # Python strips the file separator as space; pydantic does not
        ("ratio", "\x1c5"),
        ("count", "1" + "0" * 4300),  # too long to read as a whole number
        ("count", " 1" + "0" * 4300),
        ("count", "-" + "1" * 4301 + ".0"),
        ("ratio", 10**400),
        ("switch", 2**63),
        ("switch", math.nan),
        ("switch", "İ"),
    ],
)
def test_the_differences_a_review_found_are_read_as_pydantic_reads_them(key, value):
    assert_same_reading(_Scalars, {key: value})


def test_a_class_variable_on_a_table_is_not_a_setting():
    assert list(_Scalars.model_fields) == list(twin(_Scalars).model_fields)
    assert "unit" not in _Scalars.model_fields and _Scalars.unit == "days"
    assert_same_reading(_Scalars, {"unit": "weeks"})
    assert_same_reading(_Scalars, {"limits": {"a": 1}})


# A table declared the ways config tables may be declared: every type config_schema reads,
# bounds, a union, an Annotated length, validators, inheritance and class variables.


class _Base(Table):
    count: int = Field(1, ge=0, lt=100)
    unit: ClassVar[str] = "days"
    limits: typing.ClassVar[dict[str, int]] = {}


class _Scalars(_Base):
    ratio: float = Field(0.5, gt=0, le=1)
    switch: bool = False
    bounded: Annotated[list[int], Field(min_length=1)] = Field(default_factory=lambda: [1])
    maybe: int | None = None
    either: list[str] | str = ""
    pick: Literal["a", "b"] = "a"

    @field_validator("maybe")
    @classmethod
    def _even(cls, value: int | None) -> int | None:
        if value is not None and value % 2:
            raise ValueError("must be even")
        return value
