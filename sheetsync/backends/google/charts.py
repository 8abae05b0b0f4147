"""Native Sheets charts on the tabs sheetsync owns: `addChart`, `updateChartSpec`,
`updateEmbeddedObjectPosition` and `deleteEmbeddedObject` requests for the one batchUpdate.

Each chart gets a chart ID derived from its tab and key, so the next run finds it again and
updates it in place; a chart already as wanted costs no request. Every chart on an owned tab
is sheetsync's: one it does not plan is deleted. What the API answers may carry defaults it
added, so a chart counts as unchanged when everything sheetsync asked for is there as asked.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from sheetsync.backends.google.cells import api_colour
from sheetsync.core.plan import CellRange, Chart

TabCharts = tuple[str, Sequence[Chart], Mapping[int, Mapping[str, Any]]]
"""An owned tab's title, the charts planned on it and the charts it has (by chart ID)."""

COLUMN_PIXELS = 100
"""A Sheets column's default width."""
ROW_PIXELS = 21
"""A Sheets row's default height."""


def chart_id(tab: str, key: str) -> int:
    """A stable chart ID for the chart `key` on `tab` (IDs are unique in a spreadsheet)."""
    return zlib.crc32(f"sheetsync\0{tab}\0{key}".encode()) % 2_000_000_000 + 1


def _grid_range(sheet_id: int, cells: CellRange) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": cells.first_row - 1,
        "endRowIndex": cells.last_row,
        "startColumnIndex": cells.first_col - 1,
        "endColumnIndex": cells.last_col,
    }


def _data(sheet_id: int, cells: CellRange) -> dict[str, Any]:
    return {"sourceRange": {"sources": [_grid_range(sheet_id, cells)]}}


def chart_spec(chart: Chart, sheet_id: int) -> dict[str, Any]:
    """The `ChartSpec` of `chart`, reading from the tab with `sheet_id`."""
    bar = chart.kind == "bar"
    series = []
    for s in chart.series:
        entry: dict[str, Any] = {
            "series": _data(sheet_id, s.values),
            "targetAxis": "BOTTOM_AXIS" if bar else "LEFT_AXIS",
            "colorStyle": {"rgbColor": api_colour(s.colour)},
        }
        if s.point_colours:
            entry["styleOverrides"] = [
                {"index": i, "colorStyle": {"rgbColor": api_colour(colour)}}
                for i, colour in enumerate(s.point_colours)
            ]
        if not bar:
            entry["lineStyle"] = {"width": 2, "type": "MEDIUM_DASHED" if s.dashed else "SOLID"}
        series.append(entry)
    return {
        "title": chart.title,
        "basicChart": {
            "chartType": "BAR" if bar else "LINE",
            "legendPosition": "NO_LEGEND" if bar else "BOTTOM_LEGEND",
            "axis": [{"position": "BOTTOM_AXIS"}, {"position": "LEFT_AXIS"}],
            "domains": [{"domain": _data(sheet_id, chart.categories)}],
            "series": series,
            "headerCount": 0,
        },
    }


def chart_position(chart: Chart, sheet_id: int) -> dict[str, Any]:
    return {
        "overlayPosition": {
            "anchorCell": {
                "sheetId": sheet_id,
                "rowIndex": chart.row - 1,
                "columnIndex": chart.col - 1,
            },
            "widthPixels": chart.width * COLUMN_PIXELS,
            "heightPixels": chart.height * ROW_PIXELS,
        }
    }


def _contains(found: Any, wanted: Any) -> bool:
    """Everything in `wanted` is in `found` as asked (the API may add its own defaults)."""
    if isinstance(wanted, Mapping):
        return isinstance(found, Mapping) and all(
            _contains(found.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(found, list)
            and len(found) == len(wanted)
            and all(_contains(f, w) for f, w in zip(found, wanted, strict=True))
        )
    if isinstance(wanted, float) or isinstance(found, float):
        return isinstance(found, int | float) and abs(float(found) - float(wanted)) < 1e-6
    return bool(found == wanted)


def chart_requests(
    tab: str, sheet_id: int, charts: Sequence[Chart], existing: Mapping[int, Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The requests that bring the tab's charts to `charts`, and the charts as they will be.

    `existing` maps the tab's chart IDs to their `EmbeddedChart` as read (spec, position).
    """
    requests: list[dict[str, Any]] = []
    after: dict[int, dict[str, Any]] = {}
    for chart in charts:
        number = chart_id(tab, chart.key)
        spec, position = chart_spec(chart, sheet_id), chart_position(chart, sheet_id)
        after[number] = {"chartId": number, "spec": spec, "position": position}
        there = existing.get(number)
        if there is None:
            requests.append({"addChart": {"chart": after[number]}})
            continue
        if not _contains(there.get("spec"), spec):
            requests.append({"updateChartSpec": {"chartId": number, "spec": spec}})
        if not _contains(there.get("position"), position):
            requests.append(
                {
                    "updateEmbeddedObjectPosition": {
                        "objectId": number,
                        "newPosition": position,
                        "fields": "overlayPosition",
                    }
                }
            )
    for number in existing:
        if number not in after:
            requests.append({"deleteEmbeddedObject": {"objectId": number}})
    return requests, after
