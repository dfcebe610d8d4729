"""Period figures written out by hand (a real `PeriodFigures`, no database) for the report's tests."""

from __future__ import annotations

from datetime import date

from socdesk.reports.figures import AgentRow, Durations, ObservableRow, Period, PeriodFigures, RuleRow, Scope

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def november_figures(department_id: int = 1) -> PeriodFigures:
    """November 2026 in one department: 57 opened (3 a day on the 2nd to the 20th), 41 resolved."""
    opened = {(date(2026, 11, d), "wazuh", "high"): 3 for d in range(2, 21)}
    resolved = {(date(2026, 11, d), "wazuh", "high"): 2 for d in range(3, 23)}
    resolved[(date(2026, 11, 23), "email", "low")] = 1
    return PeriodFigures(
        period=NOVEMBER,
        scope=Scope(frozenset({department_id})),
        opened=opened,
        resolved=resolved,
        tta_by_severity={"high": Durations(40, 754.0, 3000.0), "low": Durations(1, 60.0, 60.0)},
        ttr_by_severity={"high": Durations(40, 7_300.0, 30_000.0), "low": Durations(1, 3600.0, 3600.0)},
        tta_by_department={department_id: Durations(41, 754.0, 3000.0)},
        ttr_by_department={department_id: Durations(41, 7_300.0, 30_000.0)},
        tta_by_team={None: Durations(41, 754.0, 3000.0)},
        ttr_by_team={None: Durations(41, 7_300.0, 30_000.0)},
        tta_by_week={date(2026, 11, 2): Durations(41, 754.0, 3000.0)},
        ttr_by_week={date(2026, 11, 2): Durations(41, 7_300.0, 30_000.0)},
        sla_response={"high": (37, 40)},
        sla_resolution={"high": (30, 40), "low": (1, 1)},
        verdicts_by_origin={
            ("wazuh", "false_positive"): 12,
            ("wazuh", "true_positive"): 28,
            ("email", "benign"): 1,
        },
        rules=[
            RuleRow("Brute force on sshd", "wazuh", 230, 30, 30, 11, 36_000.0, {"false_positive": 11}),
            RuleRow("PowerShell encoded command", "wazuh", 40, 10, 10, 1, 9_000.0, {"false_positive": 1}),
        ],
        observables=[ObservableRow(7, "ip", "203.0.113.77", 19)],
        agents=[AgentRow(1, "Alice Analyst", 29, Durations(29, 6_500.0, 20_000.0))],
        names={"department": {department_id: "SOC"}},
    )
