"""Console forms for tickets. They only parse input; the services decide and explain refusals."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from socdesk.accounts.models import Agent, Department, Team
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.choices import Resolution, Severity, Source, Status
from socdesk.tickets.services import UNSET
from socdesk.tickets.workflow import allowed_next


def _set_queryset(form: forms.BaseForm, name: str, queryset: QuerySet[Any]) -> None:
    """Offer `queryset` in one of the form's model choice fields (form.fields types them as plain Fields)."""
    cast("forms.ModelChoiceField[Any]", form.fields[name]).queryset = queryset


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more uploaded files, refused early (before reading them) when one is over the limit."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        limit = settings.ATTACHMENT_MAX_BYTES
        for f in files:
            if f.size > limit:
                raise forms.ValidationError(
                    f"The file {f.name!r} is {f.size:,} bytes; the limit is {limit:,} bytes."
                )
        return files


def incoming_files(uploaded) -> list[IncomingFile]:
    """Uploaded files as the services take them."""
    return [IncomingFile(name=f.name, content=f.read()) for f in uploaded or []]


class IdListField(forms.Field):
    """Zero or more ids sent as repeated hidden inputs (`name=3&name=7`)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            return [int(v) for v in values if str(v).strip()]
        except (TypeError, ValueError):
            raise forms.ValidationError(
                "The form sent an id that is not a number; reload the page."
            ) from None


class VersionedForm(forms.Form):
    """Every ticket form carries the version it was loaded at, so a stale edit is refused."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": "The form did not say which version of the ticket it was based on; "
            "reload the page and try again.",
            "invalid": "The form's ticket version is not a number; reload the page and try again.",
        },
    )


class ComposeForm(VersionedForm):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 5}), required=False)
    attachments = MultipleFileField(label="Attachments")
    kind = forms.ChoiceField(choices=[("reply", "Reply"), ("note", "Internal note")], initial="reply")
    # Off by default: an analyst's text often names things that are not evidence of this case.
    extract_observables = forms.BooleanField(
        label="Extract observables from this text", required=False, initial=False
    )
    # Canned responses picked in the composer: their files go with the reply (socdesk.tickets.hooks
    # `compose_files`, answered by the mail app).
    canned = IdListField(required=False)


class AssignForm(VersionedForm):
    assignee = forms.ModelChoiceField(
        queryset=Agent.objects.none(), required=False, label="Assignee", empty_label="Nobody"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label="Team", empty_label="No team"
    )

    def __init__(self, *args, ticket=None, agents=None, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        _set_queryset(
            self, "assignee", agents if agents is not None else Agent.objects.select_related("user")
        )
        _set_queryset(self, "team", teams if teams is not None else Team.objects.all())


TRANSFER_REASON_REQUIRED = "Say why the ticket is transferred: the reason is kept in its thread."


class TransferForm(VersionedForm):
    department = forms.ModelChoiceField(queryset=Department.objects.all(), label="Department")
    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        help_text="Kept in the thread for the agents who receive it.",
        error_messages={"required": TRANSFER_REASON_REQUIRED},
    )


class StatusForm(VersionedForm):
    status = forms.ChoiceField(choices=Status.choices, label="Status")
    resolution = forms.ChoiceField(
        choices=[("", "—"), *Resolution.choices], required=False, label="Resolution"
    )
    comment = forms.CharField(required=False, label="Comment", max_length=1000)

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        if ticket is not None and not self.is_bound:
            nexts = allowed_next(ticket.status)
            cast(forms.ChoiceField, self.fields["status"]).choices = [(s, Status(s).label) for s in nexts]


class SeverityForm(VersionedForm):
    severity = forms.ChoiceField(choices=Severity.choices, label="Severity")


class TagsForm(VersionedForm):
    tags = forms.CharField(required=False, label="Tags", help_text="Comma-separated.")

    def clean_tags(self):
        return [t for t in self.cleaned_data["tags"].split(",") if t.strip()]


class EditForm(VersionedForm):
    subject = forms.CharField(label="Subject", max_length=255)
    due_at = forms.DateTimeField(
        required=False,
        label="Due",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class NewTicketForm(forms.Form):
    """An agent opening a ticket on behalf of a requester (phone call, walk-in, email forwarded by hand)."""

    requester_email = forms.EmailField(required=False, label="Requester email")
    requester_name = forms.CharField(required=False, label="Requester name", max_length=150)
    requester_phone = forms.CharField(required=False, label="Requester phone", max_length=50)
    subject = forms.CharField(label="Subject", max_length=255)
    department = forms.ModelChoiceField(queryset=Department.objects.none(), label="Department")
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MEDIUM, label="Severity")
    source = forms.ChoiceField(choices=Source.choices, initial=Source.PHONE, label="Source")
    assignee = forms.ModelChoiceField(
        queryset=Agent.objects.none(), required=False, label="Assignee", empty_label="Nobody"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label="Team", empty_label="No team"
    )
    tags = forms.CharField(required=False, label="Tags", help_text="Comma-separated.")
    body = forms.CharField(required=False, label="Description", widget=forms.Textarea(attrs={"rows": 6}))
    attachments = MultipleFileField(label="Attachments")

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        _set_queryset(
            self, "department", departments if departments is not None else Department.objects.all()
        )
        _set_queryset(self, "assignee", Agent.objects.filter(user__is_active=True).select_related("user"))
        _set_queryset(self, "team", Team.objects.all())

    def clean_tags(self):
        return [t for t in self.cleaned_data["tags"].split(",") if t.strip()]


BULK_ACTIONS = [
    ("assign", "Assign to"),
    ("status", "Set status"),
    ("severity", "Set severity"),
    ("transfer", "Transfer to"),
]


# In the bulk assignment's lists: leave that side of each ticket as it is / clear it.
KEEP, CLEAR = "", "none"


class KeepOrClearField(forms.ModelChoiceField):
    """A bulk choice where "" keeps each ticket's value (UNSET), "none" clears it (None) and an id sets
    it: assigning a team to fifty tickets must not unassign their agents."""

    def to_python(self, value):
        if value in self.empty_values:
            return UNSET
        if value == CLEAR:
            return None
        return super().to_python(value)


class BulkForm(forms.Form):
    """One change applied to many selected tickets, each through ticket_update on its own."""

    # bulk action -> the fields it sends to ticket_update (an UNSET one is left out)
    CHANGED_FIELDS = {
        "assign": ("assignee", "team"),
        "status": ("status", "resolution"),
        "severity": ("severity",),
        "transfer": ("department", "reason"),
    }

    # No default: applying an unnoticed "assign to nobody" to fifty tickets would be an easy mistake.
    action = forms.ChoiceField(
        choices=[("", "Choose…"), *BULK_ACTIONS],
        label="Bulk action",
        error_messages={"required": "Choose a bulk action."},
    )
    assignee = KeepOrClearField(
        queryset=Agent.objects.none(), required=False, label="Bulk assignee", empty_label="Unchanged"
    )
    team = KeepOrClearField(
        queryset=Team.objects.none(), required=False, label="Bulk team", empty_label="Unchanged"
    )
    status = forms.ChoiceField(choices=[("", "—"), *Status.choices], required=False, label="Bulk status")
    resolution = forms.ChoiceField(
        choices=[("", "—"), *Resolution.choices], required=False, label="Bulk resolution"
    )
    severity = forms.ChoiceField(
        choices=[("", "—"), *Severity.choices], required=False, label="Bulk severity"
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, label="Bulk department", empty_label="—"
    )
    reason = forms.CharField(required=False, max_length=1000, label="Bulk transfer reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _set_queryset(self, "assignee", Agent.objects.filter(user__is_active=True).select_related("user"))
        _set_queryset(self, "team", Team.objects.all())
        _set_queryset(self, "department", Department.objects.all())

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns; its type allows None
        action = data.get("action")
        if action == "status" and not data.get("status"):
            self.add_error("status", "Choose the status to set.")
        if action == "severity" and not data.get("severity"):
            self.add_error("severity", "Choose the severity to set.")
        if action == "transfer" and not data.get("department"):
            self.add_error("department", "Choose the department to transfer to.")
        if action == "transfer" and not (data.get("reason") or "").strip():
            self.add_error("reason", TRANSFER_REASON_REQUIRED)
        if action == "assign" and data.get("assignee", UNSET) is UNSET and data.get("team", UNSET) is UNSET:
            self.add_error(
                "assignee", "Choose an assignee or a team to set (Nobody or No team clears that side)."
            )
        return data

    def changes(self) -> dict:
        """The chosen action as the {field: value} changes ticket_update takes (valid forms only)."""
        data = self.cleaned_data
        return {
            name: data[name]
            for name in self.CHANGED_FIELDS[data["action"]]
            if data.get(name, UNSET) is not UNSET
        }


class SavedSearchForm(forms.Form):
    """Save the current filter as a queue (name, and who sees it), or rename/re-share a saved one."""

    name = forms.CharField(max_length=200, error_messages={"required": "Give the saved search a name."})
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        required=False,
        empty_label="Only me",
        error_messages={"invalid_choice": "You may not share searches with that department."},
    )
    query = forms.CharField(required=False, max_length=4000)

    def __init__(self, *args, departments: QuerySet[Department], **kwargs):
        super().__init__(*args, **kwargs)
        _set_queryset(self, "department", departments)


class CollaboratorForm(forms.Form):
    """An address to copy on the ticket, or to take off it: the service checks it and says what is wrong."""

    # A plain text field: the service's sentence about a bad address is the one every channel gives.
    email = forms.CharField(
        label="E-mail address",
        max_length=320,
        error_messages={"required": "Write the collaborator's e-mail address, such as dana@example.com."},
        widget=forms.TextInput(attrs={"placeholder": "name@example.com", "autocomplete": "off"}),
    )
