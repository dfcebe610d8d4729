"""`socdesk report`: the report of a period as files or an e-mail, and `socdesk report schedules`."""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from socdesk.audit.models import AuditEvent
from socdesk.reports.models import ReportSchedule
from tests.reports.builders import worked_tickets
from tests.reports.test_report_pdf import need_poppler
from tests.reports.test_scheduled_reports import received

pytestmark = pytest.mark.django_db


def report(*args: str) -> str:
    out = io.StringIO()
    call_command("report", *args, stdout=out)
    return out.getvalue()


def this_week() -> str:
    today = timezone.localdate()
    return f"{today - timedelta(days=6)}..{today}"


def test_pdf_and_html_files(people, tmp_path):
    need_poppler()
    worked_tickets(people)
    pdf, html = tmp_path / "soc.pdf", tmp_path / "soc.html"
    out = report("--period", this_week(), "--department", "SOC", "--pdf", str(pdf), "--html", str(html))
    assert f"Wrote {pdf}" in out and f"Wrote {html}" in out
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "SOC report: SOC" in text
    assert "Tickets opened" in text and "Tickets resolved" in text
    assert "100.0 %" in text  # false positives: the one resolved ticket
    assert "Alice" in text  # analyst workload
    assert "SOC report: SOC" in html.read_text()


def test_a_team_by_slug_and_name(people, tmp_path):
    worked_tickets(people)
    html = tmp_path / "tier1.html"
    report("--period", this_week(), "--department", "soc", "--team", "tier 1", "--html", str(html))
    assert "SOC report: SOC, team Tier 1" in html.read_text()


def test_email(people, smtp):
    worked_tickets(people)
    out = report(
        "--period", this_week(), "--department", "SOC", "--email", "lead@example.test,ciso@example.test"
    )
    assert "E-mailed SOC report SOC" in out
    ((rcpt, message),) = received(smtp)
    assert sorted(rcpt) == ["ciso@example.test", "lead@example.test"]
    assert [a.get_content_type() for a in message.iter_attachments()] == ["application/pdf"]
    event = AuditEvent.objects.get(action="report.sent")
    assert event.actor_label == "cli:report" and event.target_label == "SOC"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--period", "2026-13", "--department", "SOC"], "not a real month, week or day"),
        (["--period", "last month", "--department", "SOC"], "is not a period"),
        (["--period", "2026-11", "--department", "Nope"], "There is no department 'Nope'"),
        (
            ["--period", "2026-11", "--department", "IT Help Desk", "--team", "Tier 1"],
            "no team 'Tier 1' in IT Help Desk",
        ),
        (
            ["--period", "2026-11", "--department", "SOC", "--email", "not-an-address"],
            "'not-an-address' is not an",
        ),
        (["--period", "2026-11"], "Give --period and --department"),
    ],
)
def test_mistakes_are_one_sentence_and_nothing_is_written_or_sent(people, smtp, tmp_path, args, says):
    pdf = tmp_path / "out.pdf"
    with pytest.raises(CommandError, match=says):
        report(*args, "--pdf", str(pdf))
    assert not pdf.exists()
    assert smtp.messages == []
    assert not AuditEvent.objects.filter(action="report.sent").exists()


def test_nowhere_to_put_it(people):
    with pytest.raises(CommandError, match="Say where the report goes"):
        report("--period", "2026-11", "--department", "SOC")


def test_schedules_add_list_run_remove(people, smtp):
    out = report(
        "schedules",
        "add",
        "soc-monthly",
        "--department",
        "SOC",
        "--frequency",
        "monthly",
        "--to",
        "a@example.test, b@example.test",
    )
    assert "Scheduled monthly report soc-monthly to a@example.test, b@example.test" in out
    assert "soc-monthly: monthly, SOC, to a@example.test, b@example.test; not sent yet" in report(
        "schedules", "list"
    )

    assert report("schedules", "run") == "soc-monthly: sent\n"
    assert len(smtp.messages) == 1
    assert report("schedules", "run") == "No scheduled report is due.\n"
    assert "last sent" in report("schedules", "list")

    with pytest.raises(CommandError, match="already exists"):
        report("schedules", "add", "soc-monthly", "--department", "SOC", "--to", "c@example.test")
    report("schedules", "remove", "soc-monthly")
    assert not ReportSchedule.objects.exists()
    with pytest.raises(CommandError, match="There is no scheduled report 'soc-monthly'"):
        report("schedules", "remove", "soc-monthly")
