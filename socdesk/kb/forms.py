"""Console forms of the knowledge base; they only parse input, the services decide."""

from __future__ import annotations

from django import forms

from socdesk.kb.choices import Visibility
from socdesk.kb.models import Category


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(), required=False, empty_label="No category"
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.INTERNAL,
        help_text="Public articles are shown to requesters in the portal; internal ones never are.",
    )
    body = forms.CharField(
        label="Body (Markdown)",
        widget=forms.Textarea(attrs={"rows": 16, "class": "mono"}),
        max_length=200_000,
        help_text="Markdown: # headings, **bold**, lists, `code`, tables, links. HTML is shown as text.",
    )


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=300, required=False)
    order = forms.IntegerField(min_value=0, initial=0, required=False)
