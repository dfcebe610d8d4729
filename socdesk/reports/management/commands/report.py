"""`socdesk report`: the SOC report of a period as PDF/HTML files or an e-mail, and the scheduled reports.

socdesk report --period 2026-11 --department SOC --pdf out.pdf [--html out.html] [--email a@b]
socdesk report schedules list | add NAME ... | remove NAME | run
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone

from socdesk.accounts.models import Department, Team
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.mailer import mail_error_text
from socdesk.reports.choices import Frequency
from socdesk.reports.models import ReportSchedule
from socdesk.reports.periods import HELP, PeriodError, parse_period
from socdesk.reports.report_sending import report_build, report_email, schedules_send_due
from socdesk.reports.schedules import ScheduleDefinition, recipients_parse, schedule_create, schedule_delete

CLI_ACTOR = Actor.system("cli:report")


def department_named(value: str) -> Department:
    """A department by slug or name (any case)."""
    found = Department.objects.filter(Q(slug=value.strip()) | Q(name__iexact=value.strip())).first()
    if found is None:
        raise CommandError(f"There is no department {value!r} (`socdesk department list` shows them).")
    return found


def team_named(value: str, department: Department) -> Team:
    found = Team.objects.filter(name__iexact=value.strip()).first()
    if found is None or found.department_id != department.pk:
        raise CommandError(f"There is no team {value!r} in {department.name}.")
    return found


class Command(BaseCommand):
    help = "Write the SOC report of a period as PDF/HTML or e-mail it; manage the scheduled reports."

    def add_arguments(self, parser):
        parser.add_argument("--period", help=f"The period: {HELP}.")
        parser.add_argument("--department", help="The department's slug or name (e.g. SOC).")
        parser.add_argument(
            "--team", default="", help="One of its teams, by name (default: the whole department)."
        )
        parser.add_argument("--pdf", default="", help="Write the PDF here.")
        parser.add_argument("--html", default="", help="Write the e-mail's HTML version here.")
        parser.add_argument(
            "--email",
            action="append",
            default=[],
            help="E-mail the report (HTML, PDF attached) here; repeatable.",
        )
        sub = parser.add_subparsers(dest="subcommand")
        schedules = sub.add_parser("schedules", help="The scheduled reports: list, add, remove, run.")
        actions = schedules.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="Show every scheduled report and what it last sent.")
        add = actions.add_parser("add", help="Schedule a weekly or monthly report (audited).")
        add.add_argument("name", help="Its name: lower-case letters, digits, '-' or '_' (e.g. soc-weekly).")
        add.add_argument("--department", dest="schedule_department", required=True, help="Slug or name.")
        add.add_argument("--team", dest="schedule_team", default="", help="One of its teams, by name.")
        add.add_argument("--frequency", choices=Frequency.values, default=Frequency.WEEKLY)
        add.add_argument("--to", required=True, help="Recipients, separated by commas.")
        add.add_argument("--disabled", action="store_true", help="Add it without sending it yet.")
        remove = actions.add_parser("remove", help="Remove a scheduled report.")
        remove.add_argument("name")
        actions.add_parser("run", help="Send the reports due now (what the worker does every hour).")

    def handle(self, *args, subcommand: str | None = None, **opts):
        if subcommand == "schedules":
            getattr(self, f"_schedules_{opts['action']}")(**opts)
            return
        self._report(**opts)

    def _report(self, **opts) -> None:
        if not opts["period"] or not opts["department"]:
            raise CommandError("Give --period and --department (e.g. --period 2026-11 --department SOC).")
        if not (opts["pdf"] or opts["html"] or opts["email"]):
            raise CommandError("Say where the report goes: --pdf FILE, --html FILE and/or --email ADDRESS.")
        try:
            period = parse_period(opts["period"])
        except PeriodError as exc:
            raise CommandError(str(exc)) from None
        department = department_named(opts["department"])
        team = team_named(opts["team"], department) if opts["team"] else None
        outputs = [Path(p) for p in (opts["pdf"], opts["html"]) if p]
        for path in outputs:
            if not path.parent.is_dir():
                raise CommandError(f"Cannot write {path}: the directory {path.parent} does not exist.")
        to = recipients_parse(",".join(opts["email"]))
        for address in to:
            try:
                validate_email(address)
            except ValidationError:
                raise CommandError(f"{address!r} is not an e-mail address.") from None
        report = report_build(period, department, team)
        if opts["pdf"]:
            Path(opts["pdf"]).write_bytes(report.pdf)
            self.stdout.write(f"Wrote {opts['pdf']} ({len(report.pdf):,} bytes).")
        if opts["html"]:
            Path(opts["html"]).write_text(report.html, encoding="utf-8")
            self.stdout.write(f"Wrote {opts['html']}.")
        if to:
            self._email(report, to, department, period, team)

    def _email(self, report, to: list[str], department, period, team) -> None:
        try:
            report_email(
                actor=CLI_ACTOR, report=report, period=period, department=department, team=team, to=to
            )
        except OSError as exc:
            raise CommandError(f"The report was written but not e-mailed: {mail_error_text(exc)}.") from None
        self.stdout.write(f"E-mailed {report.title} to {', '.join(to)}.")

    # --- schedules ------------------------------------------------------------------------------------

    def _schedules_list(self, **_opts) -> None:
        schedules = ReportSchedule.objects.select_related("department", "team")
        if not schedules:
            self.stdout.write("No scheduled reports (`socdesk report schedules add` adds one).")
        for s in schedules:
            scope = s.department.name + (f", team {s.team.name}" if s.team else "")
            last = (
                f"last sent {s.last_sent_at:%Y-%m-%d %H:%M} (up to {s.last_period_end})"
                if s.last_sent_at
                else "not sent yet"
            )
            state = "" if s.enabled else " [disabled]"
            error = f"; last error: {s.last_error}" if s.last_error else ""
            self.stdout.write(
                f"{s.name}{state}: {s.frequency}, {scope}, to {', '.join(s.recipients)}; {last}{error}"
            )

    def _schedules_add(self, **opts) -> None:
        department = department_named(opts["schedule_department"])
        team = team_named(opts["schedule_team"], department) if opts["schedule_team"] else None
        definition = ScheduleDefinition(
            name=opts["name"],
            department=department,
            team=team,
            frequency=opts["frequency"],
            recipients=recipients_parse(opts["to"]),
            enabled=not opts["disabled"],
        )
        try:
            schedule = schedule_create(actor=CLI_ACTOR, definition=definition)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Scheduled {schedule.frequency} report {schedule.name} to {', '.join(schedule.recipients)}; "
            "the worker sends the last whole period within the hour."
        )

    def _schedules_remove(self, **opts) -> None:
        schedule = ReportSchedule.objects.filter(name=opts["name"]).first()
        if schedule is None:
            raise CommandError(
                f"There is no scheduled report {opts['name']!r} (`socdesk report schedules list`)."
            )
        schedule_delete(actor=CLI_ACTOR, schedule=schedule)
        self.stdout.write(f"Removed scheduled report {opts['name']}.")

    def _schedules_run(self, **_opts) -> None:
        outcomes = schedules_send_due(timezone.localdate())
        if not outcomes:
            self.stdout.write("No scheduled report is due.")
        for outcome in outcomes:
            self.stdout.write(
                f"{outcome.schedule}: {outcome.status}" + (f" ({outcome.error})" if outcome.error else "")
            )
        if any(outcome.status == "failed" for outcome in outcomes):
            raise CommandError("Some reports were not sent; they are retried at the worker's next run.")
