"""The dashboard's pure pieces: the picker's periods and the colours every origin keeps across charts."""

from __future__ import annotations

from datetime import date

import pytest

from socdesk.alerts.choices import Adapter
from socdesk.reports.dashboard import ORIGIN_COLOURS
from socdesk.reports.figures import Period
from socdesk.reports.picker import picker_from
from socdesk.tickets.filters import CHANNEL_ORIGINS

TODAY = date(2026, 11, 30)


def test_every_origin_has_its_own_colour():
    origins = {*CHANNEL_ORIGINS, "alert", *Adapter.values}
    assert set(ORIGIN_COLOURS) == origins
    assert len(set(ORIGIN_COLOURS.values())) == len(origins)


@pytest.mark.parametrize(
    ("params", "period", "extra"),
    [
        ({}, Period(date(2026, 11, 24), TODAY), {}),
        ({"period": "24h"}, Period(date(2026, 11, 29), TODAY), {}),
        ({"period": "30d"}, Period(date(2026, 11, 1), TODAY), {}),
        (
            {"period": "custom", "from": "2026-10-01", "to": "2026-10-31"},
            Period(date(2026, 10, 1), date(2026, 10, 31)),
            {},
        ),
        (
            {"period": "7d", "department": "4", "team": "9"},
            Period(date(2026, 11, 24), TODAY),
            {"department": "4", "team": "9"},
        ),
    ],
)
def test_periods_end_today_and_the_picker_round_trips(params, period, extra):
    picker = picker_from(params, TODAY)
    assert not picker.errors
    assert picker.period == period
    again = picker_from(picker.params(), TODAY)
    assert again.period == period and again.params() == picker.params()
    assert {k: v for k, v in picker.params().items() if k in ("department", "team")} == extra


@pytest.mark.parametrize("raw", ["-1", "0", "1.5", "²", str(2**63)])
def test_an_id_that_is_no_id_is_reported(raw):
    picker = picker_from({"department": raw}, TODAY)
    assert picker.department_id is None and "department" in picker.errors
