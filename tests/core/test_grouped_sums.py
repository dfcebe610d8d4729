"""core.sql.grouped_sums: one statement sums a column by several groupings (GROUPING SETS on PostgreSQL,
UNION ALL on SQLite) and gives the same groups as summing each grouping in Python, on both databases."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.db.models import Count, IntegerField, Sum
from django.db.models.functions import Cast

from socdesk.core.sql import grouped_sums, plain_rows
from socdesk.reports.models import DayDuration

pytestmark = pytest.mark.django_db

SETS = [("severity", "measure", "bucket"), ("department_id", "measure", "bucket"), ("day",)]


def make_rows() -> None:
    draw = random.Random(7)
    rows = {}
    for _ in range(400):
        key = (
            date(2026, 11, 1) + timedelta(days=draw.randrange(20)),
            draw.choice([1, 2, 3]),
            draw.choice([0, 5]),
            draw.choice(["low", "high", "critical"]),
            draw.choice(["tta", "ttr"]),
            draw.randrange(30),
        )
        rows[key] = draw.choice([0, 0, 1, 2, 7, 40])  # zero rows stay: a fold leaves them behind
    DayDuration.objects.bulk_create(
        DayDuration(day=day, department_id=d, team_id=t, severity=s, measure=m, bucket=b, count=n)
        for (day, d, t, s, m, b), n in rows.items()
    )


def test_grouped_sums_agree_with_python():
    make_rows()
    scoped = DayDuration.objects.filter(department_id__in=[1, 3], day__gte=date(2026, 11, 5))
    expected: dict[tuple[int, tuple], int] = defaultdict(int)
    for row in scoped.values():
        for index, columns in enumerate(SETS):
            expected[(index, tuple(row[c] for c in columns))] += row["count"]
    expected = {key: n for key, n in expected.items() if n > 0}
    found = grouped_sums(scoped, SETS, "count")
    assert {(index, values): n for index, values, n in found} == expected
    assert len(found) == len(expected)  # each group once
    assert all(isinstance(values[0], date) for index, values, _n in found if index == 2)
    assert {index for index, _values, _n in found} == {0, 1, 2}


def test_grouped_sums_of_nothing_and_refused_sets():
    make_rows()
    assert grouped_sums(DayDuration.objects.filter(department_id=99), SETS, "count") == []
    with pytest.raises(ValueError, match="different columns"):
        grouped_sums(DayDuration.objects.all(), [("day", "measure"), ("measure", "day")], "count")


def test_plain_rows_are_the_rows_the_orm_reads():
    """core.sql.plain_rows gives a grouped values() queryset's rows as the ORM would, dates as dates."""
    make_rows()
    summed = (
        DayDuration.objects.filter(department_id__in=[1, 3])
        .order_by("day", "severity")
        .values("day", "severity")
        .annotate(n=Sum(Cast("count", IntegerField())), rows=Count("*"))
        .filter(n__gt=0)
    )
    expected = [(row["day"], row["severity"], row["n"], row["rows"]) for row in summed]
    assert expected and plain_rows(summed) == expected
    assert all(type(day) is date and type(n) is int for day, _severity, n, _rows in plain_rows(summed))
    assert plain_rows(summed.filter(department_id=99)) == []
    with pytest.raises(ValueError, match="values"):
        plain_rows(DayDuration.objects.all())
