"""Text in a chart's XML (titles, series names, sheet references, attribute values) is escaped
exactly as xml.sax.saxutils escapes it, which the chart parts were written with before."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from hypothesis import given
from hypothesis import strategies as st

from sheetsync.backends.excel import charts

NASTY = st.text(alphabet=st.sampled_from("a&<>\"'\n\r\t é_x"), max_size=12) | st.text()


@given(NASTY)
def test_chart_text_is_escaped_as_saxutils_escapes_it(text):
    assert charts.escape(text) == escape(text)


@given(NASTY)
def test_chart_attributes_are_quoted_as_saxutils_quotes_them(text):
    assert charts.quoteattr(text) == quoteattr(text)
