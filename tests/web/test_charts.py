"""Server-drawn SVG charts: what they say in words, where the reference lines fall, and that every
value is escaped."""

from __future__ import annotations

import re
from datetime import date

from onward.web.charts import Point, TimelineMark, TrendSpec, services_timeline, sparkline, trend_chart

PHQ = TrendSpec(
    name="PHQ-9",
    points=[Point(date(2025, 1, 6), 18), Point(date(2025, 2, 3), 15), Point(date(2025, 3, 3), 9)],
    max_score=27,
    caseness=10,
    reliable_change=6,
    planned_exit=date(2025, 4, 28),
)


def _y(svg: str, css_class: str) -> float:
    found = re.search(rf'class="{css_class}"[^>]* y1="([\d.]+)"', svg)
    assert found, css_class
    return float(found.group(1))


def test_a_trend_says_what_it_shows_and_places_its_lines() -> None:
    svg = str(trend_chart(PHQ))
    assert '<title id="trend-phq-9-t">PHQ-9 scores over time</title>' in svg
    assert "3 PHQ-9 scores: 2025-01-06 18; 2025-02-03 15; 2025-03-03 9. Reliable improvement." in svg
    assert "Latest score below the line at 10." in svg
    # Scores 0-27 over 208 px from y=16: caseness 10 sits at 16 + 208 * (1 - 10/27).
    assert abs(_y(svg, "caseness") - (16 + 208 * (1 - 10 / 27))) < 0.06
    band = re.search(r'class="band" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', svg)
    assert band is not None  # 18 ± 5: from 23 down to 13
    top, height = float(band.group(1)), float(band.group(2))
    assert abs(top - (16 + 208 * (1 - 23 / 27))) < 0.06 and abs(height - 208 * 10 / 27) < 0.1
    assert svg.count('class="dot"') == 3 and "planned exit" in svg
    plain = str(trend_chart(PHQ, plain=True))
    assert "Your PHQ-9 answers over time" in plain and "below this line is the healthy range" in plain
    assert "Lower than at the start by a reliable margin" in plain


def test_values_are_escaped_and_empty_input_draws_nothing() -> None:
    spark = str(sparkline([Point(date(2025, 1, 1), 3)], max_score=27, label='<script>"x"</script>'))
    assert "<script>" not in spark and "&lt;script&gt;&#34;x&#34;" in spark
    marks = [TimelineMark(date(2025, 1, 2), "treatment", "a <b> & c")]
    timeline = str(
        services_timeline(marks, categories=["treatment"], start=date(2025, 1, 1), end=date(2025, 2, 1))
    )
    assert "a &lt;b&gt; &amp; c" in timeline and "1 treatment services" in timeline
    assert str(sparkline([], max_score=27, label="x")) == ""
    assert str(trend_chart(TrendSpec(name="GAD-7", points=[], max_score=21))) == ""
