"""The portal's forms: the sign-in address, a reply, and a report built from a help topic's form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse

from socdesk.portal.selectors import PortalForm
from socdesk.routing.choices import FieldType
from socdesk.routing.models import CustomField
from socdesk.tickets.attachments import IncomingFile

# The honeypot: a text field people never see (hidden by the portal's stylesheet, skipped by keyboard
# and screen readers); a bot filling every field fills it too.
HONEYPOT = "website"
CUSTOM_PREFIX = "cf_"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (each checked against the attachment limit by the tickets service)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def incoming_files(uploads: list[UploadedFile]) -> list[IncomingFile]:
    """Uploaded files as the tickets service takes them (the size limit is checked there)."""
    return [IncomingFile(upload.name or "attachment", upload.read()) for upload in uploads]


class HoneypotMixin(forms.Form):
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT, "").strip())


class SignInForm(HoneypotMixin):
    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class NameForm(forms.Form):
    """The requester's name as agents see it (the service checks it and gives the errors)."""

    name = forms.CharField(
        label="Your name",
        required=False,
        help_text="Shown to the security team beside your e-mail address. Leave it empty to remove it.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(label="Your message", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label="Attach files (optional)")


def _custom_field(row: CustomField) -> forms.Field:
    """The form field of one custom field (values are checked by routing's check as well)."""
    common: dict[str, Any] = {"label": row.label, "required": row.user_required, "help_text": row.help_text}
    choices = [(str(c), str(c)) for c in row.choices or ()]
    if row.type == FieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **common)
    if row.type == FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "Choose…"), *choices], **common)
    if row.type == FieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if row.type == FieldType.CHECKBOX:
        return forms.BooleanField(**common)
    if row.type == FieldType.EMAIL:
        return forms.EmailField(**common)
    if row.type == FieldType.DATETIME:
        return forms.CharField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common)
    if row.type == FieldType.NUMBER:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    return forms.CharField(max_length=255, **common)


class ReportForm(HoneypotMixin):
    """A help topic's form as requesters fill it: a title, what happened, the topic's custom fields
    visible to them, the suspicious e-mail where the form asks for one, and attachments."""

    subject = forms.CharField(label="Short title", max_length=255)
    body = forms.CharField(label="What happened?", required=False, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, portal_form: PortalForm, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.portal_form = portal_form
        # As the title is typed, the suggested public articles beside it follow (htmx; without scripts
        # they are the ones for the form's name, and for the title after a refused send).
        self.fields["subject"].widget.attrs.update(
            {
                "hx-get": reverse("portal:articles-suggested", args=[portal_form.topic.pk]),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#suggested-articles",
                "hx-swap": "innerHTML",
            }
        )
        if portal_form.asks_for_email:
            self.fields["subject"].required = False
            self.fields["subject"].help_text = "Optional: the reported e-mail's subject is used otherwise."
            self.fields["eml"] = forms.FileField(
                label="The suspicious e-mail as a file (.eml)",
                required=False,
                help_text="In most mail programs: save or drag the message out as a file.",
                widget=forms.ClearableFileInput(attrs={"accept": ".eml,message/rfc822"}),
            )
            self.fields["pasted"] = forms.CharField(
                label="Or paste its headers and text",
                required=False,
                widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
            )
        for row in portal_form.fields:
            self.fields[CUSTOM_PREFIX + row.name] = _custom_field(row)
        self.fields["requester_name"] = forms.CharField(
            label="Your name (optional)",
            required=False,
            help_text="Shown to the security team with your report; it is kept for your next ones.",
            widget=forms.TextInput(attrs={"autocomplete": "name"}),
        )
        self.fields["attachments"] = MultipleFileField(
            label="Attach files (optional)",
            help_text=f"Up to {settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB each.",
        )
        # The trap goes last, after everything a person fills in.
        self.fields[HONEYPOT] = self.fields.pop(HONEYPOT)

    def custom_values(self) -> dict[str, Any]:
        """The custom fields' values by field name (empty ones left out: the check treats them as unset)."""
        values = {}
        for name, value in self.cleaned_data.items():
            if name.startswith(CUSTOM_PREFIX) and value not in ("", None, [], False):
                values[name[len(CUSTOM_PREFIX) :]] = value
        return values

    def reported(self) -> tuple[bytes, str]:
        """The suspicious e-mail's bytes (the file wins over the pasted text) and its file name."""
        upload = self.cleaned_data.get("eml")
        if upload:
            return upload.read(), upload.name or ""
        pasted = (self.cleaned_data.get("pasted") or "").replace("\r\n", "\n")
        return pasted.encode("utf-8"), ""
