"""Forms for integrations, shared by the Django admin and the console's admin area: both check with the
same functions as the REST API (socdesk.alerts.integrations)."""

from __future__ import annotations

from django import forms

from socdesk.alerts.integrations import (
    EDITABLE,
    default_tags_problem,
    field_map_problem,
    grouping_key_problem,
    severity_map_problem,
)
from socdesk.alerts.models import Integration


class IntegrationForm(forms.ModelForm):
    class Meta:
        model = Integration
        # What the API may set; the token is generated and rotated by the services, shown read-only.
        fields = list(EDITABLE)

    # The same checks as the REST API (socdesk.alerts.integrations).
    def _checked(self, name, check, empty):
        value = self.cleaned_data.get(name) or empty
        problem = check(value)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean_severity_map(self):
        return self._checked("severity_map", severity_map_problem, {})

    def clean_default_tags(self):
        return self._checked("default_tags", default_tags_problem, [])

    def clean_field_map(self):
        return self._checked("field_map", field_map_problem, {})

    def clean_grouping_key(self):
        return self._checked("grouping_key", grouping_key_problem, "")


class PreviewForm(forms.Form):
    payload = forms.CharField(widget=forms.Textarea(attrs={"rows": 18, "cols": 100}), label="Sample payload")
