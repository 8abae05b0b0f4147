"""A closed period's grade stays what it was at the end; a person's later edit is a correction."""

from __future__ import annotations

from sheetsync.cli import main
from tests.e2e.workbooks import write_config

HEAD = ["ID", "Objective", "Key Result", "Owner", "Start", "Target", "Current", "Period", "KPI"]
KPI_HEAD = ["KPI", "Owner", "Unit", "Direction", "Target", "Warning", "Actual"]


def outputs(sheets, kr_id):
    values = sheets.values("team", "OKRs")
    head = values[0]
    row = next(r for r in values[1:] if r[0] == kr_id)
    return tuple(row[head.index(h)] for h in ("Score", "Status", "Note"))


def test_a_grade_fed_by_a_kpi_is_frozen_at_the_period_end(sheets, tmp_path):
    okrs = [HEAD, ["Q4", "Grow", "Pipeline", "ana@example.com", 0, 100, None, "2026-Q4", "Pipe"]]
    kpis = [KPI_HEAD, ["Pipe", "ana@example.com", None, "higher", 100, 90, 45]]
    entry = sheets.create("team", {"OKRs": okrs, "KPIs": kpis})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    main(["run", "--config", str(config), "--as-of", "2026-12-31"])

    sheets.edit("team", "KPIs", "G2", 120)  # January: the KPI moves on
    main(["run", "--config", str(config), "--as-of", "2027-01-10"])

    score, status, note = outputs(sheets, "Q4")
    assert (score, status) == (0.45, "Partly achieved")
    assert note == (
        "final grade 0.45 (2026-Q4 ended; kept at its 2026-12-31 value, KPI 'Pipe' changed since)"
    )


def test_a_person_editing_current_after_the_end_is_shown_as_a_correction(sheets, tmp_path):
    okrs = [HEAD, ["Q4", "Grow", "Pipeline", "ana@example.com", 0, 100, 45, "2026-Q4", None]]
    entry = sheets.create("team", {"OKRs": okrs})
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[tabs]\nkpis = ""\n')
    main(["run", "--config", str(config), "--as-of", "2026-12-31"])

    sheets.edit("team", "OKRs", "G2", 80)
    main(["run", "--config", str(config), "--as-of", "2027-01-10"])

    score, status, note = outputs(sheets, "Q4")
    assert (score, status) == (0.8, "Achieved")
    assert note.startswith("corrected after the period ended (was 45 on 2026-12-31)")
