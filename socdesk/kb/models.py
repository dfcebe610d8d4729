"""The knowledge base: articles in Markdown, internal or public, grouped in categories."""

from __future__ import annotations

from django.db import models

from socdesk.kb.choices import Visibility


class Category(models.Model):
    """A group of articles (Phishing, Endpoint, Access ...); configuration, exported by `config export`."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    order = models.PositiveIntegerField(default=0, help_text="Lower comes first on the knowledge base page.")

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """One article: a title and a Markdown body (rendered sanitised, socdesk.kb.markdown), internal to
    agents or public to requesters too. Searched with the database's full-text index (socdesk.kb.search)."""

    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="articles"
    )
    author = models.ForeignKey(
        "accounts.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="kb_articles"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["category", "title"], name="kb_article_category_idx"),
            models.Index(fields=["visibility", "title"], name="kb_article_visibility_idx"),
        ]

    def __str__(self) -> str:
        return self.title
