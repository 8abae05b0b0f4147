"""The report page's content: escaped text, status words beside colours, sparklines, file names."""

from __future__ import annotations

from datetime import date

from sheetsync.core.alignment import TreeNode
from sheetsync.core.model import KeyResult, KeyResultScore, Kpi, KpiScore, Period, Status
from sheetsync.report import build_page, file_name_for, render_index, render_page
from sheetsync.report.page import sparkline

AS_OF = date(2026, 11, 15)
Q4 = Period(date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")


def test_text_from_a_sheet_is_escaped_never_markup():
    kr = KeyResult(2, "<b>Grow</b>", "<script>alert(1)</script>", target=10, period=Q4)
    page = build_page(
        "Team <x>",
        "team.html",
        AS_OF,
        key_results=[KeyResultScore(kr, 0.5, Status.ON_TRACK, value=5)],
    )
    html = render_page(page)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Grow&lt;/b&gt;" in html and "Team &lt;x&gt;" in html
    assert "Team &lt;x&gt;" in render_index([page], AS_OF)


def test_every_status_shows_its_word_and_a_symbol_not_only_a_colour():
    nodes = [
        TreeNode("A", 0, 1.0, Status.DONE),
        TreeNode("B", 1, 0.4, Status.AT_RISK, expected=0.5),
        TreeNode("C", 1, 0.1, Status.OFF_TRACK),
        TreeNode("D", 0, None, Status.NO_DATA),
    ]
    html = render_page(build_page("Team", "team.html", AS_OF, tree=nodes))
    for symbol, word in (("✓", "Done"), ("!", "At risk"), ("✕", "Off track"), ("–", "No data")):
        assert f'aria-hidden="true">{symbol}</span>{word}</span>' in html
    assert 'x1="50.0"' in html  # the pace mark of B at 0.5
    assert "level 2: </span>B" in html


def test_a_kpi_trend_is_a_sparkline_with_words_for_screen_readers():
    kpi = Kpi(2, "Signups", actual=118, target=100, warning=90, unit="users")
    line = sparkline([("Jul", 80), ("Aug", None), ("Sep", 101), ("Oct", 118)], str)
    assert line is not None
    assert line.points.split() == ["2.0,22.0", "48.0,10.9", "94.0,2.0"]
    assert line.description == "trend over 3 periods: 80 (Jul) to 118 (Oct)"
    assert sparkline([("Jul", 80), ("Aug", None)]) is None
    page = build_page("Team", "t.html", AS_OF, kpis=[KpiScore(kpi, Status.ON_TRACK)])
    assert "no trend yet" in render_page(page)


def test_page_file_names_are_safe_and_unique():
    taken: set[str] = set()
    names = [file_name_for(n, taken) for n in ("Sales OKRs", "sales/okrs", "index", "../x", "")]
    assert names == ["sales-okrs.html", "sales-okrs-2.html", "index-2.html", "x.html",
                     "workbook.html"]  # fmt: skip
