"""The config's tables as plain frozen classes, checked as pydantic (v2, lax mode) checked them.

Why not pydantic: every `sheetsync` process reads the config, and importing pydantic and
building the config's 17 models cost about 0.1 s of CPU per process (30 ms importing it, 60 ms
building its validators, more scanning the installed packages for plugins): a third of an
Excel run's start-up, more than reading a small workbook. This module is the part of pydantic
the config used, in about 1 ms: `Table` (a frozen class with `model_validate`, `model_copy`,
`model_dump`), `Field` (default, bounds, description), `field_validator` and
`model_validator`. Values are read as pydantic's lax mode reads them (`"25"` is the whole
number 25, `1.0` is true, `"yes"` is true), and a wrong value raises `ValidationError` with the
same error records pydantic gave (type, location, message, context) in the same order, so
`config_messages` words them exactly as before. Numbers as text are read by pydantic's rules,
not Python's: ASCII digits only (float("٣") is 3.0; pydantic refuses it), underscores only
between digits, a whole number's point followed by zeros (`"1."` is refused), Unicode
White_Space stripped. `tests/unit/test_config_parity.py` compares every table with pydantic
(a test-only dependency) on random values, so this copy cannot drift.

A new setting is an annotated class attribute with its default or a `Field(...)`, as with
pydantic. The types read are str, int, float, bool, Literal[...], list[...], dict[str, ...],
unions of them (`X | None`, `list[str] | str`) and other tables; any other type fails the first
config that sets it (TypeError), so a test that sets the new key shows it at once. A
`ClassVar[...]` annotation is a class variable, not a setting, as in pydantic.
"""

from __future__ import annotations

import inspect
import math
import re
import sys
import types
from collections.abc import Callable, Iterator
from typing import Annotated, Any, ClassVar, Literal, Self, Union, get_args, get_origin

_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}
_INT_LIMIT = 2**63
"""A number at or beyond this is refused as a whole number or a switch (pydantic reads an i64)."""
_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Unicode's White_Space, what pydantic strips around a number as text (Python's str.strip()
also strips the separators \\x1c to \\x1f, which pydantic refuses)."""
_DIGITS_LIMIT = 4300
"""The longest whole number read from text (Python's own limit for int(text))."""
_JSON_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]*)")
_TOO_LONG = re.compile(rf"-?[1-9][0-9]{{{_DIGITS_LIMIT}}}")
"""Text that starts with a whole number too long to read, whatever follows (as pydantic says)."""
_NUMBER = re.compile(
    r"[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)", re.I | re.A
)
"""A number as text, as pydantic (Rust's f64 parser) reads it: ASCII digits only, where Python's
float() also reads Unicode digits and underscores."""
_CLASS_VARIABLE = re.compile(r"((\w+\.)?Annotated\[)?(\w+\.)?ClassVar\b")
"""An annotation (as text) that declares a class variable, never a setting, as pydantic says."""


class ValidationError(ValueError):
    """One or more wrong values; `errors()` lists them as pydantic's ValidationError did."""

    def __init__(self, title: str, errors: list[dict[str, Any]]) -> None:
        self.title = title
        self._errors = errors
        lines = [f"{len(errors)} validation error{'s' * (len(errors) != 1)} for {title}"]
        for error in errors:
            lines += [".".join(map(str, error["loc"])), f"  {error['msg']} [type={error['type']}]"]
        super().__init__("\n".join(lines))

    def errors(self) -> list[dict[str, Any]]:
        return list(self._errors)


class ValidationInfo:
    """What a field validator is told besides the value: which field it checks."""

    def __init__(self, field_name: str) -> None:
        self.field_name = field_name


class FieldInfo:
    """A setting's default and bounds (`Field(...)`), and what the type annotation says."""

    def __init__(
        self,
        default: Any = ...,
        *,
        default_factory: Callable[[], Any] | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        min_length: int | None = None,
        description: str = "",
        exclude: bool = False,
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.bounds = {"le": le, "lt": lt, "ge": ge, "gt": gt}  # checked in pydantic's order
        self.min_length = min_length
        self.description = description
        self.exclude = exclude
        self.annotation: Any = None

    @property
    def required(self) -> bool:
        return self.default is ... and self.default_factory is None

    def make_default(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default


def Field(default: Any = ..., **kwargs: Any) -> Any:
    """A setting's default (or `default_factory`), bounds (`gt`, `ge`, `lt`, `le`,
    `min_length`) and `description`."""
    return FieldInfo(default, **kwargs)


def field_validator(*names: str) -> Callable[[Any], Any]:
    """Check (and possibly rewrite) the named fields once their type is right:
    `fn(cls, value, info) -> value`, raising ValueError with what is wrong."""

    def mark(fn: Any) -> Any:
        fn.__func__._checks_fields = names
        return fn

    return mark


def model_validator(*, mode: Literal["after"]) -> Callable[[Any], Any]:
    """Check a whole table once every field is right: `fn(self) -> self`, raising ValueError."""

    def mark(fn: Any) -> Any:
        fn._checks_table = mode
        return fn

    return mark


class Table:
    """A frozen table of settings: built from keywords or `model_validate(dict)`, each value
    checked and read as its annotation says, unknown keys refused."""

    model_fields: ClassVar[dict[str, FieldInfo]]
    _field_checks: ClassVar[dict[str, list[Callable[..., Any]]]]
    _table_checks: ClassVar[list[Callable[..., Any]]]
    _resolved: ClassVar[bool]
    _fields_set: set[str]
    """The fields given (not defaulted): what `model_dump(exclude_unset=True)` keeps."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, FieldInfo] = {}
        for base in reversed(cls.__mro__[1:]):
            fields.update(getattr(base, "model_fields", {}))
        for name, annotation in inspect.get_annotations(cls).items():
            if name.startswith("_") or name == "model_fields" or _is_class_variable(annotation):
                continue
            value = cls.__dict__.get(name, ...)
            if isinstance(value, FieldInfo):
                fields[name] = value
                delattr(cls, name)  # an instance's value is its own, never the Field
            else:
                fields[name] = FieldInfo(value)
        cls.model_fields = fields
        cls._field_checks = {}
        cls._table_checks = []
        for attr_name, attr in cls.__dict__.items():
            func = getattr(attr, "__func__", attr)
            for name in getattr(func, "_checks_fields", ()):
                cls._field_checks.setdefault(name, []).append(_field_check(cls, attr_name))
            if getattr(func, "_checks_table", None):
                cls._table_checks.append(func)
        cls._resolved = False

    @classmethod
    def _resolve(cls) -> None:
        """Turn the annotations (text, under `from __future__ import annotations`) into types,
        once, when the first table is built: every class they name exists by then."""
        if cls._resolved:
            return
        namespace = vars(sys.modules[cls.__module__])
        for klass in reversed(cls.__mro__):
            for name, text in inspect.get_annotations(klass).items():
                if name in cls.model_fields:
                    annotation = eval(text, namespace) if isinstance(text, str) else text
                    field = cls.model_fields[name]
                    if get_origin(annotation) is Annotated:
                        annotation, *extra = get_args(annotation)
                        for meta in extra:
                            if isinstance(meta, FieldInfo) and meta.min_length is not None:
                                field.min_length = meta.min_length
                    field.annotation = annotation
        cls._resolved = True

    def __init__(self, **data: Any) -> None:
        built, errors = _table(type(self), data, (), self)
        if errors:
            raise ValidationError(type(self).__name__, errors)
        assert built is self

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        """The table `data` (a dict) describes; ValidationError listing every wrong value."""
        built, errors = _table(cls, data, (), None)
        if errors:
            raise ValidationError(cls.__name__, errors)
        return built  # type: ignore[return-value]

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        """A copy with `update`'s values, taken as they are (not checked), as pydantic does."""
        copy = object.__new__(type(self))
        state = dict(self.__dict__)
        state.update(update or {})
        state["_fields_set"] = self._fields_set | set(update or {})
        object.__setattr__(copy, "__dict__", state)
        return copy

    def model_dump(self, *, exclude_unset: bool = False) -> dict[str, Any]:
        """The values as plain data (tables as dicts, `exclude`d fields left out); only those
        given with `exclude_unset`."""
        return {
            name: _dumped(value, exclude_unset)
            for name, value in self._values()
            if not self.model_fields[name].exclude
            and (not exclude_unset or name in self._fields_set)
        }

    @property
    def model_fields_set(self) -> set[str]:
        return set(self._fields_set)

    def _values(self) -> Iterator[tuple[str, Any]]:
        for name in self.model_fields:
            yield name, self.__dict__[name]

    def __setattr__(self, name: str, value: Any) -> None:
        """Refused, as pydantic refused it on a frozen model (settings are shared by threads
        and worker processes; a changed copy is `model_copy(update=...)`)."""
        raise ValidationError(
            type(self).__name__,
            [_error("frozen_instance", (name,), "Instance is frozen")],
        )

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return dict(self._values()) == dict(other._values())  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__[name] for name in self.model_fields))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._values())
        return f"{type(self).__name__}({shown})"


def _is_class_variable(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return _CLASS_VARIABLE.match(annotation) is not None
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation is ClassVar or get_origin(annotation) is ClassVar


def _dumped(value: Any, exclude_unset: bool) -> Any:
    if isinstance(value, Table):
        return value.model_dump(exclude_unset=exclude_unset)
    if isinstance(value, list):
        return [_dumped(v, exclude_unset) for v in value]
    if isinstance(value, dict):
        return {k: _dumped(v, exclude_unset) for k, v in value.items()}
    return value


def _field_check(cls: type[Table], attr_name: str) -> Callable[[Any, ValidationInfo], Any]:
    """A field validator, called with the field's name only when it takes one."""
    bound = getattr(cls, attr_name)
    if bound.__func__.__code__.co_argcount >= 3:
        return bound  # type: ignore[no-any-return]
    return lambda value, _info: bound(value)


# --- reading one value as its annotation says ------------------------------------------------

Errors = list[dict[str, Any]]
Loc = tuple[int | str, ...]


def _error(kind: str, loc: Loc, msg: str, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "loc": loc, "msg": msg}
    if ctx is not None:
        error["ctx"] = ctx
    return error


def _table(cls: type[Table], data: Any, loc: Loc, into: Table | None) -> tuple[Any, Errors]:
    """Build `cls` from `data` (a dict, or an instance taken as it is)."""
    if isinstance(data, cls) and into is None:
        return data, []
    if not isinstance(data, dict):
        message = f"Input should be a valid dictionary or instance of {cls.__name__}"
        return None, [_error("model_type", loc, message, {"class_name": cls.__name__})]
    cls._resolve()
    values: dict[str, Any] = {}
    errors: Errors = []
    for name, field in cls.model_fields.items():
        if name not in data:
            if field.required:
                errors.append(_error("missing", (*loc, name), "Field required"))
            else:
                values[name] = field.make_default()
            continue
        value, wrong = _value(field.annotation, data[name], (*loc, name))
        wrong = wrong or _bounds(field, value, (*loc, name))
        if not wrong:
            for check in cls._field_checks.get(name, ()):
                try:
                    value = check(value, ValidationInfo(name))
                except ValueError as exc:
                    wrong = [_value_error(exc, (*loc, name))]
                    break
        if wrong:
            errors += wrong
        else:
            values[name] = value
    for key in data:
        if key not in cls.model_fields:
            errors.append(_error("extra_forbidden", (*loc, key), "Extra inputs are not permitted"))
    if errors:
        return None, errors
    table = into if into is not None else object.__new__(cls)
    values["_fields_set"] = {name for name in data if name in cls.model_fields}
    object.__setattr__(table, "__dict__", values)
    for check in cls._table_checks:
        try:
            check(table)
        except ValueError as exc:
            return None, [_value_error(exc, loc)]
    return table, []


def _value_error(exc: ValueError, loc: Loc) -> dict[str, Any]:
    return _error("value_error", loc, f"Value error, {exc}", {"error": exc})


def _bounds(field: FieldInfo, value: Any, loc: Loc) -> Errors:
    if field.min_length is not None and len(value) < field.min_length:
        n = field.min_length
        message = (
            f"List should have at least {n} item{'s' * (n != 1)} after validation, not {len(value)}"
        )
        ctx = {"field_type": "List", "min_length": n, "actual_length": len(value)}
        return [_error("too_short", loc, message, ctx)]
    wording = {
        "gt": ("greater_than", "greater than"),
        "ge": ("greater_than_equal", "greater than or equal to"),
        "lt": ("less_than", "less than"),
        "le": ("less_than_equal", "less than or equal to"),
    }
    for key, bound in field.bounds.items():
        if bound is None:
            continue
        ok = {"gt": value > bound, "ge": value >= bound, "lt": value < bound, "le": value <= bound}
        if not ok[key]:
            kind, words = wording[key]
            # the message shows the bound as declared, the context as the field's type (0.0)
            ctx = {key: type(value)(bound)}
            return [_error(kind, loc, f"Input should be {words} {bound}", ctx)]
    return []


def _value(annotation: Any, value: Any, loc: Loc) -> tuple[Any, Errors]:
    """`value` read as `annotation` says (lax, as pydantic's default mode), or its errors."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) < len(args) and value is None:
            return None, []
        if len(members) == 1:
            return _value(members[0], value, loc)
        for member in members:  # an exact match first, as pydantic's smart unions do
            if _exact(member, value):
                result, wrong = _value(member, value, loc)
                if not wrong:
                    return result, []
        errors: Errors = []
        for member in members:
            result, wrong = _value(member, value, (*loc, _tag(member)))
            if not wrong:
                return result, []
            errors += wrong
        return None, errors
    if origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value, []
        shown = [repr(a) for a in args]
        expected = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
        return None, [
            _error("literal_error", loc, f"Input should be {expected}", {"expected": expected})
        ]
    if origin is list:
        if not isinstance(value, list | tuple):
            return None, [_error("list_type", loc, "Input should be a valid list")]
        items, errors = [], []
        for i, item in enumerate(value):
            result, wrong = _value(args[0], item, (*loc, i))
            errors += wrong
            items.append(result)
        return (None, errors) if errors else (items, [])
    if origin is dict:
        if not isinstance(value, dict):
            return None, [_error("dict_type", loc, "Input should be a valid dictionary")]
        entries, errors = {}, []
        for key, item in value.items():
            if not isinstance(key, str):  # the value is read all the same, as pydantic does
                errors.append(
                    _error("string_type", (*loc, key, "[key]"), "Input should be a valid string")
                )
            result, wrong = _value(args[1], item, (*loc, key))
            errors += wrong
            entries[key] = result
        return (None, errors) if errors else (entries, [])
    if isinstance(annotation, type) and issubclass(annotation, Table):
        return _table(annotation, value, loc, None)
    reader = _SCALARS.get(annotation)
    if reader is None:
        raise TypeError(f"no reader for settings of type {annotation!r}")
    return reader(value, loc)


def _exact(member: Any, value: Any) -> bool:
    origin = get_origin(member) or member
    return isinstance(origin, type) and type(value) is origin


def _tag(member: Any) -> str:
    """How pydantic names a union's member in an error's location (`list[str]`, `str`)."""
    return member.__name__ if isinstance(member, type) else str(member)


def _str(value: Any, loc: Loc) -> tuple[Any, Errors]:
    if isinstance(value, str):
        return value, []
    return None, [_error("string_type", loc, "Input should be a valid string")]


def _int(value: Any, loc: Loc) -> tuple[Any, Errors]:
    if isinstance(value, int):
        return int(value), []
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, [_error("finite_number", loc, "Input should be a finite number")]
        if abs(value) >= _INT_LIMIT:
            message = "Unable to parse input string as an integer, exceeded maximum size"
            return None, [_error("int_parsing_size", loc, message)]
        if not value.is_integer():
            message = "Input should be a valid integer, got a number with a fractional part"
            return None, [_error("int_from_float", loc, message)]
        return int(value), []
    if isinstance(value, str):
        if _TOO_LONG.match(value):
            message = "Unable to parse input string as an integer, exceeded maximum size"
            return None, [_error("int_parsing_size", loc, message)]
        text = value if _JSON_WHOLE.fullmatch(value) else _whole_number_text(value)
        if text and _JSON_WHOLE.fullmatch(text) and len(text.lstrip("-")) <= _DIGITS_LIMIT:
            return int(text), []
        message = "Input should be a valid integer, unable to parse string as an integer"
        return None, [_error("int_parsing", loc, message)]
    return None, [_error("int_type", loc, "Input should be a valid integer")]


def _whole_number_text(text: str) -> str | None:
    """`text` as plain digits (`" +007.00 "` is `7`, `1_000` is `1000`), the way pydantic
    cleans a whole number written as text; None where it would not."""
    digits = text.strip(_SPACE)
    if digits.startswith("+"):
        digits = digits[1:]
        if digits.startswith("-"):
            return None
    sign = ""
    if digits.startswith("-"):
        sign, digits = "-", digits[1:]
        if digits.startswith(("-", "+")):
            return None
    stripped = _without_leading_zeros(digits)
    if stripped is None:
        return None
    whole, point, decimals = stripped.partition(".")
    if point and decimals and set(decimals) == {"0"}:
        stripped = whole
    joined = _without_underscores(stripped)
    if joined is not None:
        return sign + joined
    return None if stripped == text else sign + stripped


def _without_leading_zeros(digits: str) -> str | None:
    """`digits` from its first significant digit (keeping one zero: `000` is `0`, `00.0` is
    `0.0`; underscores among the zeros go too); None when it does not start with a digit."""
    if not digits or digits[0] not in "0123456789-":
        return None
    if digits[0] != "0":
        return digits
    for i, char in enumerate(digits[1:], 1):
        if char in "0_":
            continue
        if char in "123456789-":
            return digits[i:]
        return digits[i - 1 :] if char == "." else None
    return digits[-1]


def _without_underscores(text: str) -> str | None:
    """`1_000` as `1000`: underscores only between characters, never two together."""
    if "_" not in text or "__" in text or text.startswith("_") or text.endswith("_"):
        return None
    return text.replace("_", "")


def _float(value: Any, loc: Loc) -> tuple[Any, Errors]:
    if isinstance(value, int | float):
        try:
            return float(value), []
        except OverflowError:  # a whole number beyond any float
            return None, [_error("float_type", loc, "Input should be a valid number")]
    if isinstance(value, str):
        text = value.strip(_SPACE)
        if not _NUMBER.fullmatch(text):
            text = _without_underscores(value) or ""  # untrimmed, as pydantic does
        if _NUMBER.fullmatch(text):
            return float(text), []
        message = "Input should be a valid number, unable to parse string as a number"
        return None, [_error("float_parsing", loc, message)]
    return None, [_error("float_type", loc, "Input should be a valid number")]


def _bool(value: Any, loc: Loc) -> tuple[Any, Errors]:
    if isinstance(value, bool):
        return value, []
    message = "Input should be a valid boolean, unable to interpret input"
    if isinstance(value, str):
        word = value.lower() if value.isascii() else value
        if word in _TRUE or word in _FALSE:
            return word in _TRUE, []
        return None, [_error("bool_parsing", loc, message)]
    if isinstance(value, int) and -_INT_LIMIT <= value < _INT_LIMIT:
        return (
            (bool(value), []) if value in (0, 1) else (None, [_error("bool_parsing", loc, message)])
        )
    if isinstance(value, int | float):  # a whole number as a float, else not a switch at all
        whole, wrong = _int(float(value) if isinstance(value, float) else math.inf, loc)
        if not wrong:
            if whole in (0, 1):
                return bool(whole), []
            return None, [_error("bool_parsing", loc, message)]
    return None, [_error("bool_type", loc, "Input should be a valid boolean")]


_SCALARS: dict[Any, Callable[[Any, Loc], tuple[Any, Errors]]] = {
    str: _str,
    int: _int,
    float: _float,
    bool: _bool,
}
