"""The dashboard's picker: which period, department and team, read from the query string (pure).

Figures are counted per calendar day in the installation's time zone (socdesk/reports/figures.py), so
every period is a range of whole days ending today: "24 h" is yesterday and today, "7 d" the last seven
days, "30 d" the last thirty; "custom" takes `from` and `to` dates. A bad value is reported in `errors`
and the default used instead, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from socdesk.reports.figures import Period

# key -> (label, days ending today); "custom" has no fixed length.
PERIODS: dict[str, tuple[str, int]] = {"24h": ("24 h", 2), "7d": ("7 days", 7), "30d": ("30 days", 30)}
CUSTOM = "custom"
DEFAULT_PERIOD = "7d"
MAX_DAYS = 366  # a year of days: longer ranges belong to the monthly report


@dataclass
class Picker:
    """What the agent picked (or the defaults), with the problems found in what they sent."""

    period_key: str
    period: Period
    department_id: int | None = None
    team_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        """The picker as query parameters (for the CSV links and the form's values)."""
        out = {"period": self.period_key}
        if self.period_key == CUSTOM:
            out |= {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        if self.department_id is not None:
            out["department"] = str(self.department_id)
        if self.team_id is not None:
            out["team"] = str(self.team_id)
        return out

    def query(self) -> str:
        return urlencode(self.params())


def picker_from(params, today: date) -> Picker:
    """Read `period`, `from`, `to`, `department` and `team` (a QueryDict or a plain mapping)."""
    errors: dict[str, str] = {}
    key = params.get("period") or DEFAULT_PERIOD
    if key not in (*PERIODS, CUSTOM):
        errors["period"] = f"Unknown period {key!r}; use one of: {', '.join((*PERIODS, CUSTOM))}."
        key = DEFAULT_PERIOD
    period = None
    if key == CUSTOM:
        period = _custom(params, today, errors)
        if period is None:
            key = DEFAULT_PERIOD
    if period is None:
        period = Period(today - timedelta(days=PERIODS[key][1] - 1), today)
    return Picker(
        period_key=key,
        period=period,
        department_id=_id(params, "department", errors),
        team_id=_id(params, "team", errors),
        errors=errors,
    )


def _custom(params, today: date, errors: dict[str, str]) -> Period | None:
    days = {}
    for name in ("from", "to"):
        raw = (params.get(name) or "").strip()
        try:
            days[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = f"A custom period needs a {name!r} date like 2026-11-27, not {raw!r}."
    if errors:
        return None
    start, end = days["from"], days["to"]
    if start > end:
        errors["from"] = f"The period starts ({start}) after it ends ({end}): swap the dates."
    elif end > today:
        errors["to"] = f"The period ends in the future ({end}); the last day with figures is today ({today})."
    elif (end - start).days + 1 > MAX_DAYS:
        errors["from"] = f"A period is at most {MAX_DAYS} days; this one is {(end - start).days + 1}."
    return None if errors else Period(start, end)


def _id(params, name: str, errors: dict[str, str]) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        errors[name] = f"{name} must be the id of a {name} from the list, not {raw!r}."
        return None
    return int(raw)
