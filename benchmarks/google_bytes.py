"""What a Google sync costs on the wire and in client CPU, against the local Sheets API stand-in.

    python benchmarks/google_bytes.py [--sizes 1000,10000] [--repeat 3] [--against DIR]

Per size, on a fresh spreadsheet of realistic shape (`benchmarks.workbooks`): the first sync
and an unchanged re-run, each a whole `sheetsync run` process with the default configuration
(alerts on; only the stand-in's address, the key file and a generous HTTP timeout set), as
requests, bytes down and up (HTTP headers and bodies as they crossed the socket, compressed
when they were) and the CPU seconds and peak memory of the `sheetsync run` process (start-up
included; the stand-in answers in this process and is not counted).

The reference, measured in the same run on the same spreadsheet, is issue #14's: the bytes of
the OKRs and KPIs values alone, as one `values.batchGet` of both tabs (unformatted values, no
compression) downloads them. Also printed: that same read gzip-compressed, and the upload of
the first sync per cell it wrote. Goals (issue #14, at 10,000 rows): unchanged download
<= 1.5x the reference, client CPU <= 1 s; first-sync upload <= 40 bytes per written cell.
Results go to benchmarks/results/google_bytes.md (+ .json).

`--against DIR` compares two versions of sheetsync instead: DIR is another checkout (for
example `git worktree add /tmp/before <commit>`), and per size the unchanged sync of each is
run alternately, `--repeat` times, on the same spreadsheet (an unchanged sync writes
nothing, so each finds it as the other left it); printed: each one's median client CPU and
peak memory, and this checkout's CPU as a ratio of DIR's, measured in the same minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import measure, sheetsync_run, write_config  # noqa: E402
from benchmarks.workbooks import rows  # noqa: E402
from tests.sheets_standin import Formula, SheetsStandIn  # noqa: E402
from tests.sheets_standin.fixtures import write_service_account_file  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
AS_OF = date(2026, 11, 15)


def _cells(data: list[list[Any]]) -> list[list[Any]]:
    return [[Formula(v[0], effective=v[1]) if isinstance(v, tuple) else v for v in r] for r in data]


def written_cells(body: Any) -> int:
    """Cells a batchUpdate body writes, each counted once however many of its requests touch
    it (a value in an updateCells and a fill in a repeatCell are one written cell)."""
    cells: set[tuple[int, int, int]] = set()
    for request in (body or {}).get("requests", []):
        update = request.get("updateCells")
        if update:
            start = update.get("start", {})
            sheet, top, left = (start.get(k, 0) for k in ("sheetId", "rowIndex", "columnIndex"))
            for i, row in enumerate(update.get("rows", [])):
                cells.update((sheet, top + i, left + j) for j in range(len(row.get("values", []))))
        repeat = request.get("repeatCell")
        if repeat:
            r = repeat.get("range", {})
            cells.update(
                (r.get("sheetId", 0), i, j)
                for i in range(r.get("startRowIndex", 0), r.get("endRowIndex", 0))
                for j in range(r.get("startColumnIndex", 0), r.get("endColumnIndex", 0))
            )
    return len(cells)


class Bench:
    def __init__(self) -> None:
        self.api = SheetsStandIn().start()
        self.tmp = tempfile.TemporaryDirectory(prefix="sheetsync-bench-bytes-")
        self.key = write_service_account_file(Path(self.tmp.name) / "sa.json", self.api)

    def close(self) -> None:
        self.api.stop()
        self.tmp.cleanup()

    def spreadsheet(self, n: int) -> str:
        okrs, kpis = rows(n)
        return self.api.create_spreadsheet(
            f"bench-{n}", {"OKRs": _cells(okrs), "KPIs": _cells(kpis)}
        )

    def config(self, sids: list[str], requests_per_minute: int | None = None) -> Path:
        """The default configuration for these spreadsheets, in a folder of their own (its
        `.sheetsync` state directory remembers their tabs from one run to the next)."""
        folder = Path(self.tmp.name) / f"config-{sids[0]}"
        folder.mkdir(exist_ok=True)
        google = {"api_url": self.api.url, "credentials": str(self.key), "timeout": 300}
        if requests_per_minute is not None:
            google["requests_per_minute"] = requests_per_minute
        extra = "[google]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in google.items())
        entries = [{"name": f"bench-{i}", "spreadsheet": sid} for i, sid in enumerate(sids)]
        return write_config(folder, entries, extra)

    def sync(self, config: Path, *options: str) -> dict[str, Any]:
        """One whole `sheetsync run` process, measured."""
        self.api.reset_counts()
        cost = measure(sheetsync_run(config, AS_OF, *options))
        written = sum(written_cells(r.body) for r in self.api.requests_of("batchUpdate"))
        return {
            "requests": self.api.api_requests,
            "down": self.api.bytes_down,
            "up": self.api.bytes_up,
            "cpu": cost.cpu,
            "peak_mb": cost.peak_mb,
            "cells": written,
            "tokens": self.api.counts.get("token", 0),
            "refused_for_quota": self.api.refused_for_quota,
        }

    def reference(self, sid: str) -> dict[str, int]:
        """The OKRs and KPIs values alone: one plain values.batchGet, then gzip-compressed."""
        out = {}
        for name, headers in (
            ("values", {"Accept-Encoding": "identity"}),
            ("values_gzip", {"Accept-Encoding": "gzip", "User-Agent": "bench (gzip)"}),
        ):
            session = self.api.session()
            session.headers.update(headers)
            self.api.reset_counts()
            answer = session.get(
                f"{self.api.url}/v4/spreadsheets/{sid}/values:batchGet",
                params={"ranges": ["OKRs", "KPIs"], "valueRenderOption": "UNFORMATTED_VALUE"},
            )
            answer.raise_for_status()
            out[name] = self.api.bytes_down
        return out

    def measure(self, n: int, repeat: int) -> dict[str, Any]:
        firsts, unchanged = [], []
        for _ in range(repeat):
            sid = self.spreadsheet(n)
            config = self.config([sid])
            firsts.append(self.sync(config))
            unchanged.append(self.sync(config))
        ref = self.reference(sid)
        first = _median(firsts)
        same = _median(unchanged)
        return {
            "rows": n,
            "reference": ref,
            "first": first,
            "unchanged": same,
            "unchanged_down_ratio": same["down"] / ref["values"],
            "unchanged_down_ratio_gzip_ref": same["down"] / ref["values_gzip"],
            "first_up_per_cell": first["up"] / max(1, first["cells"]),
        }


def unchanged_in(checkout: Path, config: Path) -> tuple[float, float]:
    """The CPU seconds and peak memory of an unchanged sync by the sheetsync of `checkout`."""
    cost = measure(sheetsync_run(config, AS_OF), source=checkout)
    return cost.cpu, cost.peak_mb


def compare(bench: Bench, n: int, repeat: int, other: Path) -> dict[str, Any]:
    """This checkout's unchanged sync against `other`'s, alternately on one spreadsheet."""
    config = bench.config([bench.spreadsheet(n)])
    bench.sync(config)  # the first sync, then one unchanged: what each round repeats
    bench.sync(config)
    runs: dict[str, list[tuple[float, float]]] = {"this": [], "other": []}
    for _ in range(repeat):
        runs["other"].append(unchanged_in(other, config))
        runs["this"].append(unchanged_in(ROOT, config))
    med = {
        name: (statistics.median(c for c, _ in r), statistics.median(m for _, m in r))
        for name, r in runs.items()
    }
    return {"rows": n, "this": med["this"], "other": med["other"], "runs": runs}


def comparison_table(results: list[dict[str, Any]], other: Path) -> str:
    lines = [
        f"| rows | unchanged sync, client CPU: this checkout | {other} | ratio "
        "| peak memory: this | other |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        (cpu, mb), (cpu_o, mb_o) = r["this"], r["other"]
        lines.append(
            f"| {r['rows']:,} | {cpu:.2f} s | {cpu_o:.2f} s | **{cpu / cpu_o:.2f}x** "
            f"| {mb:.0f} MB | {mb_o:.0f} MB |"
        )
    return "\n".join(lines)


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| rows | OKRs+KPIs values (gzip) | unchanged: requests, down, / values (goal <= 1.5x) "
        "| unchanged client CPU (goal <= 1 s) | first: requests, down, up "
        "| first: up per written cell (goal <= 40 B) | first client CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        u, f, ref = r["unchanged"], r["first"], r["reference"]
        lines.append(
            f"| {r['rows']:,} | {_kb(ref['values'])} ({_kb(ref['values_gzip'])}) "
            f"| {u['requests']:.0f}, {_kb(u['down'])}, **{r['unchanged_down_ratio']:.2f}x** "
            f"| {u['cpu']:.2f} s | {f['requests']:.0f}, {_kb(f['down'])}, {_kb(f['up'])} "
            f"| {r['first_up_per_cell']:.0f} B ({f['cells']:,.0f} cells) | {f['cpu']:.2f} s |"
        )
    return "\n".join(lines)


def _kb(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "google_bytes")
    parser.add_argument("--against", type=Path, help="another sheetsync checkout to compare")
    args = parser.parse_args(argv)
    bench = Bench()
    try:
        if args.against:
            other = args.against.resolve()
            sizes = [int(n) for n in args.sizes.split(",")]
            compared = [compare(bench, n, args.repeat, other) for n in sizes]
            print(comparison_table(compared, other))
            return 0
        results = [bench.measure(int(n), args.repeat) for n in args.sizes.split(",")]
    finally:
        bench.close()
    text = table(results)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
