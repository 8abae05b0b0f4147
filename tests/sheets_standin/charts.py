"""Embedded charts in the Sheets stand-in: `addChart`, `updateChartSpec`,
`updateEmbeddedObjectPosition` and `deleteEmbeddedObject`, checked as the API documents them.

Every request body is checked against the schemas of the Sheets v4 discovery document that
google-api-python-client ships (unknown fields, wrong JSON types, values outside an enum are
refused with the API's 400 wording), then against what the API itself enforces: chart IDs
unique in the spreadsheet, sheets and objects that exist, data ranges on real sheets.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.sheets_standin.model import Spreadsheet


@cache
def _schemas() -> dict[str, Any]:
    document = resources.files("googleapiclient") / "discovery_cache/documents/sheets.v4.json"
    return dict(json.loads(document.read_text(encoding="utf-8"))["schemas"])


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "object": (dict,),
}


def check_schema(value: Any, schema: Mapping[str, Any], where: str) -> None:
    """Refuse `value` where it does not fit `schema` (a discovery-document schema)."""
    from tests.sheets_standin.model import bad_request

    if "$ref" in schema:
        schema = _schemas()[schema["$ref"]]
    kind = schema.get("type", "object")
    allowed = _JSON_TYPES.get(kind, (object,))
    if kind == "integer" and isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)  # int64 travels as a string in JSON
    if isinstance(value, bool) and kind in ("integer", "number"):
        allowed = ()
    if not isinstance(value, allowed):
        raise bad_request(f"Invalid value at '{where}' (TYPE_{kind.upper()}), {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise bad_request(f"Invalid value at '{where}' (TYPE_ENUM), {value!r}")
    if kind == "array":
        for i, item in enumerate(value):
            check_schema(item, schema.get("items", {}), f"{where}[{i}]")
    elif kind == "object" and "properties" in schema:
        for key, item in value.items():
            if key not in schema["properties"]:
                raise bad_request(
                    f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                    "Cannot find field."
                )
            check_schema(item, schema["properties"][key], f"{where}.{key}")


def _check(req: Mapping[str, Any], request_schema: str, where: str) -> None:
    check_schema(req, {"$ref": request_schema}, where)


def _charts(ss: Spreadsheet) -> dict[int, Any]:
    """chart ID -> the sheet holding it."""
    return {chart_id: sheet for sheet in ss.sheets for chart_id in sheet.charts}


def _check_sources(ss: Spreadsheet, spec: Mapping[str, Any], where: str) -> None:
    from tests.sheets_standin.model import bad_request

    basic = spec.get("basicChart")
    if not basic:
        raise bad_request(f"Invalid {where}: the stand-in draws basic charts only")
    ranges = [
        source
        for part in [*basic.get("domains", []), *basic.get("series", [])]
        for data in (part.get("domain") or part.get("series") or {},)
        for source in data.get("sourceRange", {}).get("sources", [])
    ]
    if not basic.get("series") or not ranges:
        raise bad_request(f"Invalid {where}: a chart needs at least one series with a range.")
    for grid_range in ranges:
        ss.by_id(grid_range.get("sheetId", 0), where)
        for start, end in (
            ("startRowIndex", "endRowIndex"),
            ("startColumnIndex", "endColumnIndex"),
        ):
            if start in grid_range and end in grid_range and grid_range[end] <= grid_range[start]:
                raise bad_request(f"Invalid {where}: empty range in a chart's sources.")


def _sheet_of(ss: Spreadsheet, position: Mapping[str, Any], where: str) -> Any:
    from tests.sheets_standin.model import bad_request

    overlay = position.get("overlayPosition")
    if overlay is not None:
        return ss.by_id(overlay.get("anchorCell", {}).get("sheetId", 0), where)
    if "sheetId" in position:
        return ss.by_id(position["sheetId"], where)
    raise bad_request(f"Invalid {where}: the stand-in places charts over a sheet only.")


def add_chart(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    from tests.sheets_standin.model import bad_request

    _check(req, "AddChartRequest", where)
    chart = copy.deepcopy(dict(req.get("chart") or {}))
    if "spec" not in chart or "position" not in chart:
        raise bad_request(f"Invalid {where}: a chart needs its spec and position.")
    taken = _charts(ss)
    chart_id = chart.get("chartId")
    if chart_id is None:
        chart_id = max([0, *taken]) + 1
    if chart_id in taken:
        raise bad_request(f"Invalid {where}: An object with id {chart_id} already exists.")
    chart["chartId"] = chart_id
    _check_sources(ss, chart["spec"], where)
    _sheet_of(ss, chart["position"], where).charts[chart_id] = chart
    return {"addChart": {"chart": copy.deepcopy(chart)}}


def _existing(ss: Spreadsheet, object_id: Any, where: str) -> dict[str, Any]:
    from tests.sheets_standin.model import bad_request

    sheet = _charts(ss).get(object_id)
    if sheet is None:
        raise bad_request(f"Invalid {where}: No object with id {object_id}")
    return dict(sheet.charts[object_id])


def update_chart_spec(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    _check(req, "UpdateChartSpecRequest", where)
    chart = _existing(ss, req.get("chartId"), where)
    _check_sources(ss, req.get("spec") or {}, where)
    chart["spec"] = copy.deepcopy(req["spec"])
    _charts(ss)[chart["chartId"]].charts[chart["chartId"]] = chart
    return {}


def update_embedded_object_position(
    ss: Spreadsheet, req: Mapping[str, Any], where: str
) -> dict[str, Any]:
    from tests.sheets_standin.model import bad_request

    _check(req, "UpdateEmbeddedObjectPositionRequest", where)
    if not req.get("fields"):
        raise bad_request(f"Invalid {where}: 'fields' is required.")
    chart = _existing(ss, req.get("objectId"), where)
    position = copy.deepcopy(req.get("newPosition") or {})
    target = _sheet_of(ss, position, where)
    _charts(ss)[chart["chartId"]].charts.pop(chart["chartId"])
    chart["position"] = position
    target.charts[chart["chartId"]] = chart
    return {"updateEmbeddedObjectPosition": {"position": copy.deepcopy(position)}}


def delete_embedded_object(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    _check(req, "DeleteEmbeddedObjectRequest", where)
    chart = _existing(ss, req.get("objectId"), where)
    _charts(ss)[chart["chartId"]].charts.pop(chart["chartId"])
    return {}


CHART_REQUESTS = {
    "addChart": add_chart,
    "updateChartSpec": update_chart_spec,
    "updateEmbeddedObjectPosition": update_embedded_object_position,
    "deleteEmbeddedObject": delete_embedded_object,
}
