"""A config's validation errors in the words of the person who wrote the TOML.

Pydantic says "Input should be a valid integer, unable to parse string as an integer" and
"List should have at least 1 item after validation"; the person editing the file needs
"`port = "25x"`: expected a whole number" and "the config lists no workbooks". This module
turns one `ValidationError` into one `ConfigError` listing every wrong key once, with the
value found, what was expected, and, for a key in the wrong table, the table it belongs in.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

from sheetsync.config_schema import Table, ValidationError
from sheetsync.core.errors import ConfigError

TOML_TABLE_NOTE = "(TOML puts keys after a [table] header into that table)"

_EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text in quotes",
    "list": 'a list, like ["a", "b"]',
    "dict": "a table",
    "model": "a table",
}


def config_error(
    exc: ValidationError, raw: dict[str, Any], *, model: type[Table], source: str
) -> ConfigError:
    """One ConfigError for every problem in `exc`, each key reported once, in file order."""
    expected: dict[tuple[Any, ...], list[str]] = {}
    messages: dict[tuple[Any, ...], str] = {}
    for error in exc.errors():
        path = _data_path(error["loc"], raw, missing=error["type"] == "missing")
        kind = error["type"].split("_")[0]
        if kind in _EXPECTED and error["type"].endswith(("_type", "_parsing", "_from_float")):
            expected.setdefault(path, [])
            if _EXPECTED[kind] not in expected[path]:
                expected[path].append(_EXPECTED[kind])
            messages.setdefault(path, "")
        elif path not in messages:
            messages[path] = _message(error, path, raw, model)
    problems = [
        ConfigError(
            _type_message(path, raw, expected[path]) if path in expected else text,
            path=source,
            key=".".join(str(p) for p in path) or None,
        )
        for path, text in messages.items()
    ]
    first, *rest = problems
    return ConfigError(first.message, path=source, key=first.key, also=rest)


def _data_path(loc: Sequence[int | str], raw: Any, *, missing: bool) -> tuple[Any, ...]:
    """The error's location as keys of the TOML data, without pydantic's union-member tags
    (`headers.okrs.current.list[str]` is the value at `headers.okrs.current`)."""
    node, path = raw, []
    for i, part in enumerate(loc):
        in_table = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_table or in_list:
            node = node[part]
        elif not (missing and i == len(loc) - 1):
            continue
        path.append(part)
    return tuple(path)


def _value_at(raw: Any, path: Sequence[Any]) -> Any:
    for part in path:
        raw = raw[part]
    return raw


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _type_message(path: tuple[Any, ...], raw: dict[str, Any], expected: list[str]) -> str:
    found = _value_at(raw, path)
    name = next((p for p in reversed(path) if isinstance(p, str)), "value")
    return f"`{name} = {_toml(found)}`: expected {' or '.join(expected)}"


def _message(error: Any, path: tuple[Any, ...], raw: dict[str, Any], model: type[Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if path == ("workbooks",) and kind in ("too_short", "missing"):
        globs = raw.get("workbook_glob")
        return (
            "the config lists no workbooks: add a [[workbooks]] table with a name and a path "
            "(an .xlsx file) or a spreadsheet (Google)"
            + (f"; workbook_glob {_toml(globs)} matched no file" if globs else "")
        )
    if kind == "extra_forbidden":
        return _misplaced(path, model)
    if kind == "missing":
        return f"`{path[-1]}` is required in {_table(path[:-1])}"
    name = next((p for p in reversed(path) if isinstance(p, str)), "value")
    found = f"`{name} = {_toml(_value_at(raw, path))}`: " if path else ""
    bounds = {
        "greater_than": "a number greater than {gt}",
        "greater_than_equal": "a number of at least {ge}",
        "less_than": "a number less than {lt}",
        "less_than_equal": "a number of at most {le}",
        "literal_error": "one of {expected}",
    }
    if kind in bounds:
        return found + "expected " + bounds[kind].format(**ctx)
    return found + str(error["msg"]).removeprefix("Value error, ")


def _misplaced(path: tuple[Any, ...], model: type[Any]) -> str:
    """A key in the wrong table says where it belongs; a typo gets the nearest name."""
    name, here = str(path[-1]), path[:-1]
    homes = [table for table, fields in _tables(model).items() if name in fields]
    if any(len(home) <= 1 for home in homes):
        homes = [home for home in homes if len(home) <= 1]
    if homes:
        where = " or ".join("at the top of the file" if t == () else f"under `{_label(t)}`"
                            for t in homes)  # fmt: skip
        note = f" {TOML_TABLE_NOTE}" if here else ""
        if homes == [()]:
            where += ", before the first [table] header"
        return f"`{name}` belongs {where}{note}"
    fields = _tables(model).get(tuple(p for p in here if isinstance(p, str)), [])
    close = difflib.get_close_matches(name, fields, n=1)
    if close:
        return f"unknown setting `{name}`: did you mean `{close[0]}`?"
    return f"unknown setting `{name}` (check the spelling)"


def _tables(model: type[Any]) -> dict[tuple[str, ...], list[str]]:
    """Every table of the config (as a path of names) and the keys it takes."""
    tables: dict[tuple[str, ...], list[str]] = {}

    def walk(cls: type[Table], at: tuple[str, ...]) -> None:
        cls._resolve()
        tables[at] = [n for n, f in cls.model_fields.items() if not f.exclude]
        for n, f in cls.model_fields.items():
            for arg in (f.annotation, *getattr(f.annotation, "__args__", ())):
                for inner in (arg, *getattr(arg, "__args__", ())):
                    if isinstance(inner, type) and issubclass(inner, Table) and len(at) < 2:
                        walk(inner, (*at, n))

    walk(model, ())
    return tables


def _label(table: tuple[str, ...]) -> str:
    return "[[workbooks]]" if table == ("workbooks",) else f"[{'.'.join(table)}]"


def _table(path: tuple[Any, ...]) -> str:
    names = tuple(p for p in path if isinstance(p, str))
    return "the top of the file" if not names else _label(names)
