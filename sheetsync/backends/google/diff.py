"""The cell writes a plan still needs: each `CellOp` is one cell whose value, fill or number
format differs from what was read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sheetsync.backends.google.cells import ValueKey, cell_format


@dataclass(slots=True)
class CellOp:
    """One cell to write: its full value and fill, and its number format when it has one."""

    tab: str
    row: int
    col: int
    value: dict[str, Any] | None
    fill: str | None
    number_format: str | None
    key: ValueKey
    """`value_key(value)`, computed once by the diff."""

    def cell_data(self) -> dict[str, Any]:
        fmt = cell_format(self.fill, self.number_format)
        if self.value is not None:
            if fmt is None:
                return {"userEnteredValue": self.value}
            return {"userEnteredValue": self.value, "userEnteredFormat": fmt}
        if fmt is None:
            return {}
        return {"userEnteredFormat": fmt}
