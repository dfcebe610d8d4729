"""The admin area's form for a scheduled SOC report; the schedule services check every value."""

from __future__ import annotations

from django import forms

from socdesk.accounts.models import Department, Team
from socdesk.reports.choices import Frequency


class ReportScheduleForm(forms.Form):
    """A scheduled report: whose figures, how often, to whom."""

    name = forms.CharField(
        max_length=50, help_text="Lower-case letters, digits, '-' or '_' (e.g. soc-weekly)."
    )
    department = forms.ModelChoiceField(queryset=Department.objects.order_by("name"), empty_label=None)
    team = forms.ModelChoiceField(
        queryset=Team.objects.select_related("department").order_by("name"),
        required=False,
        empty_label="The whole department",
        help_text="Only this team's tickets (a team of the department).",
    )
    frequency = forms.ChoiceField(
        choices=Frequency.choices,
        initial=Frequency.WEEKLY,
        help_text="Weekly: the last whole week, Monday to Sunday. Monthly: the last whole month.",
    )
    recipients = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E-mail addresses, one a line or separated by commas.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Send this report")
