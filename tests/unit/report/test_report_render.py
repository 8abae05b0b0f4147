"""The report page's content: escaped text, status words beside colours, sparklines, file names."""

from __future__ import annotations

from datetime import date

from sheetsync.core.alignment import TreeNode
from sheetsync.core.model import KeyResult, KeyResultScore, Kpi, KpiScore, Period, Status
from sheetsync.report import IndexEntry, build_page, file_name_for, render_index, render_page
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
    assert "Team &lt;x&gt;" in render_index([IndexEntry.of(page)], AS_OF)


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


def test_key_results_are_grouped_by_team_with_counts_attention_owners_and_confidence():
    from sheetsync.core.model import Change, Confidence, InvalidRow, ObjectiveScore, Problem

    rows = [
        KeyResult(2, "Grow", "Leads", owner="Ana", team="Sales", target=100, period=Q4,
                  confidence=Confidence(7.0)),
        KeyResult(3, "Grow", "Deals", owner="Bo", target=10, period=Q4),
        KeyResult(4, "Care", "Visits", owner="Cy", start=1000, target=1300, period=Q4,
                  change=Change(0.3, relative=True, text="+30%"), start_given=False),
    ]  # fmt: skip
    scores = [
        KeyResultScore(rows[0], 0.6, Status.ON_TRACK, "confidence 7/10; ahead", value=60),
        KeyResultScore(rows[1], 0.1, Status.OFF_TRACK, value=1),
        KeyResultScore(rows[2], 0.2, Status.AT_RISK, value=1060),
    ]
    broken = InvalidRow(
        "OKRs", 5, (Problem("OKRs", "D5", "ten", "a number", "not a number"),), "Care", None, "Cy"
    )
    page = build_page(
        "Team",
        "team.html",
        AS_OF,
        objectives=[
            ObjectiveScore("Grow", 0.35, Status.AT_RISK),
            ObjectiveScore("Care", 0.2, Status.AT_RISK),
        ],
        key_results=scores,
        invalid=[broken],
    )
    # Grow's team (given once, on Leads) holds Deals too; Care names no team.
    assert [(t.team.name, t.team.total) for t in page.teams] == [("Sales", 2), ("No team", 2)]
    sales = page.teams[0]
    assert [(s.word, n) for s, n in sales.team.counts] == [("Off track", 1), ("On track", 1)]
    assert sales.team.attention == ["Grow / Deals (Off track, Bo)"]
    assert [o.name for o in page.teams[1].objectives] == ["Care"]
    assert [(o.name, o.total) for o in page.owners] == [("Ana", 2), ("Cy", 2)]

    leads, _ = sales.objectives[0].key_results
    assert (leads.confidence, leads.note) == ("confidence 7/10", "ahead")
    (visits,) = page.teams[1].objectives[0].key_results
    assert (visits.target, visits.target_from) == ("1300", "= +30% from 1000")

    html = render_page(page)
    assert '<h3 id="team-1">Sales</h3>' in html and '<h3 id="team-2">No team</h3>' in html
    assert "<li>Grow / Deals (Off track, Bo)</li>" in html
    assert "owner Ana" in html and '<span class="conf">confidence 7/10</span>' in html


def test_without_any_team_the_key_results_stay_grouped_by_objective():
    kr = KeyResult(2, "Grow", "Leads", owner="Ana", target=100, period=Q4)
    page = build_page(
        "Team", "t.html", AS_OF, key_results=[KeyResultScore(kr, 0.5, Status.ON_TRACK)]
    )
    assert page.teams == []
    html = render_page(page)
    assert 'id="teams"' not in html and '<h2 id="key-results">Key results</h2>' in html


def test_the_index_lists_every_workbook_whichever_shard_wrote_its_page(tmp_path):
    from sheetsync.report import write_reports

    listed = [("Sales", "sales.html"), ("Support", "support.html")]
    sales = build_page("Sales", "sales.html", AS_OF)
    write_reports([sales], AS_OF, tmp_path, listed)
    index = (tmp_path / "index.html").read_text()
    assert 'href="sales.html"' in index and 'href="support.html"' not in index
    assert "No page yet" in index

    support = build_page("Support", "support.html", date(2026, 11, 16))
    write_reports([support], date(2026, 11, 16), tmp_path, listed)
    index = (tmp_path / "index.html").read_text()
    assert 'href="sales.html"' in index and 'href="support.html"' in index
    assert "<td>2026-11-15</td>" in index and "<td>2026-11-16</td>" in index

    # A damaged state file only forgets the other shards' lines until they write again.
    (tmp_path / ".index.json").write_text("{not json", encoding="utf-8")
    write_reports([sales], AS_OF, tmp_path, listed)
    assert "No page yet" in (tmp_path / "index.html").read_text()
