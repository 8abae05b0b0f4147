"""The layering the folder shows is the layering the code has: an import-rule test.

A short AST walk rather than import-linter: the rule that matters most ("the core imports
only the standard library") needs `sys.stdlib_module_names`, which import-linter cannot
express without listing every third-party package by hand; the walk is one screen long and
reads every import, including the ones inside functions.
"""

from __future__ import annotations

import ast
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sheetsync"

APPLICATION = ("config", "sync", "writes", "children", "runner", "service", "cli", "template")
"""The application on top: wires the layers below; nothing below imports it (config aside)."""

ALERT_DECISIONS = ("decide", "events", "history", "log", "cells", "recipients", "pending")
"""The pure half of `alerts`: decisions over plain data, no network, files or templates."""

IO_MODULES = frozenset(
    {"smtplib", "ssl", "socket", "http", "urllib", "requests", "gspread", "google", "openpyxl"}
    | {"lxml", "zipfile", "subprocess", "jinja2", "apprise", "os", "shutil", "tempfile"}
)


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.rule}"


def imports_of(path: Path, package_root: Path) -> list[tuple[int, str]]:
    """Every module a file imports (absolute names), with its line, wherever the import is."""
    module = ".".join(path.relative_to(package_root.parent).with_suffix("").parts)
    if module.endswith(".__init__"):
        module = module.removesuffix(".__init__")
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")
                is_package = path.name == "__init__.py"
                parent = parent[: len(parent) - node.level + (1 if is_package else 0)]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            # `from sheetsync import config` imports the module sheetsync.config
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _is_module(name: str, root: Path) -> bool:
    parts = name.split(".")[1:]
    candidate = root.joinpath(*parts)
    return candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists()


def broken_rules(layer: str, where: tuple[str, ...], imported: str) -> list[str]:
    """The rules one import breaks, for a file at `where` (its path parts) in `layer`."""
    top, *rest = imported.split(".")
    target = rest[0] if top == "sheetsync" and rest else None
    rules: list[str] = []
    if layer == "core":
        if top == "sheetsync" and target not in (None, "core"):
            rules.append("the core imports nothing from the rest of sheetsync")
        elif top != "sheetsync" and top not in sys.stdlib_module_names:
            rules.append("the core imports only the standard library")
    if layer != "application" and target in APPLICATION and target != "config":
        rules.append(f"only the application imports sheetsync.{target}")
    if layer in ("core", "ops", "backends") and target == "config":
        rules.append(f"{layer} takes settings as arguments, it does not import the config")
    if layer == "backends" and target == "alerts":
        rules.append("backends never import alerts")
    if layer == "ops" and target in ("alerts", "backends"):
        rules.append("ops is machinery: it knows nothing of workbooks or alerts")
    if layer == "report" and target in ("backends", "alerts", "ops", "config"):
        rules.append("the report renders scored data: no workbook, mail, machinery or config")
    if layer == "alerts" and where[1] in ALERT_DECISIONS:
        delivery = (
            "sheetsync.alerts.send",
            "sheetsync.alerts.deliver",
            "sheetsync.alerts.render",
            "sheetsync.alerts.chat",
        )
        if top in IO_MODULES or target in ("backends", "ops") or imported.startswith(delivery):
            rules.append("alert decisions do no I/O")
    return rules


def violations(package_root: Path) -> list[Violation]:
    """The import rules of ARCHITECTURE.md, checked over every file under `package_root`."""
    found: dict[tuple[str, int, str], Violation] = {}
    for path in sorted(package_root.rglob("*.py")):
        where = path.relative_to(package_root).with_suffix("").parts
        layer = where[0] if len(where) > 1 else "application"
        name = "sheetsync." + ".".join(where).removesuffix(".__init__")
        for line, imported in imports_of(path, package_root):
            ours = imported.startswith("sheetsync.")
            if ours and not _is_module(imported, package_root):
                continue  # `from sheetsync.x import SomeName`: the module x is checked instead
            for rule in broken_rules(layer, where, imported):
                found.setdefault((name, line, rule), Violation(name, line, imported, rule))
    return list(found.values())


def test_the_code_follows_the_layers_of_the_folder_tree() -> None:
    assert [str(v) for v in violations(PACKAGE)] == []


@pytest.mark.parametrize(
    ("file", "line", "rule"),
    [
        ("core/model.py", "from sheetsync.cli import main", "the core imports nothing"),
        ("core/scoring.py", "import openpyxl", "only the standard library"),
        ("core/parse.py", "from ..backends.base import Grid", "the core imports nothing"),
        ("backends/memory.py", "from sheetsync.alerts import deliver", "never import alerts"),
        ("ops/lock.py", "from sheetsync import runner", "only the application imports"),
        ("alerts/decide.py", "import smtplib", "alert decisions do no I/O"),
        ("alerts/history.py", "from sheetsync.alerts.send import Mailer", "do no I/O"),
        ("report/page.py", "from sheetsync.backends import memory", "renders scored data"),
    ],
)
def test_an_upward_import_breaks_the_rule_test(
    tmp_path: Path, file: str, line: str, rule: str
) -> None:
    scratch = tmp_path / "sheetsync"
    shutil.copytree(PACKAGE, scratch, ignore=shutil.ignore_patterns("__pycache__"))
    target = scratch / file
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n\ndef _upward() -> None:\n    {line}\n"
    )

    broken = violations(scratch)

    module = "sheetsync." + file.removesuffix(".py").replace("/", ".")
    assert broken, "the upward import went unnoticed"
    assert {(v.module, v.imported.split(".")[0]) for v in broken} <= {
        (module, "sheetsync"),
        (module, line.split()[1].split(".")[0]),
    }, [str(v) for v in broken]
    assert any(rule in str(v) for v in broken), [str(v) for v in broken]
