"""The admin area's mailbox form: gathers a mailbox's settings; the mailbox services check them."""

from __future__ import annotations

from django import forms

from socdesk.accounts.models import Department
from socdesk.mail.models import AfterImport, MailboxSecurity
from socdesk.routing.models import HelpTopic


class MailboxForm(forms.Form):
    """An IMAP mailbox. The password is write-only: never shown back; left blank, the stored one is kept."""

    name = forms.CharField(
        max_length=50, help_text="Lower-case letters, digits, '-' or '_' (e.g. soc-inbox)."
    )
    address = forms.CharField(
        max_length=254, label="E-mail address", help_text="One of SOCdesk's own addresses."
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label="The default department",
        help_text="Where new tickets from this mailbox open.",
    )
    help_topic = forms.ModelChoiceField(
        queryset=HelpTopic.objects.order_by("name"), required=False, empty_label="None"
    )
    host = forms.CharField(max_length=253, label="IMAP server")
    port = forms.IntegerField(min_value=1, max_value=65535, initial=993)
    security = forms.ChoiceField(choices=MailboxSecurity.choices, initial=MailboxSecurity.TLS)
    username = forms.CharField(max_length=254, label="User name")
    password = forms.CharField(
        max_length=500,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    password_file = forms.CharField(
        max_length=500,
        required=False,
        label="Password file",
        help_text="Or the absolute path of a file holding it, read at every fetch; wins when set.",
    )
    folder = forms.CharField(max_length=200, initial="INBOX")
    after_import = forms.ChoiceField(
        choices=AfterImport.choices, initial=AfterImport.SEEN, label="After import"
    )
    move_to = forms.CharField(
        max_length=200, required=False, label="Move to folder", help_text="With “Move to a folder”."
    )
    interval_seconds = forms.IntegerField(min_value=1, initial=300, label="Fetch every (seconds)")
    max_messages = forms.IntegerField(min_value=1, initial=100, label="Messages per fetch")
    enabled = forms.BooleanField(required=False, initial=True, label="Fetch this mailbox")

    def __init__(self, *args, password_set: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = (
            "A password is stored; leave blank to keep it." if password_set else "Stored, never shown again."
        )
