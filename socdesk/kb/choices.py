"""The knowledge base's fixed vocabularies."""

from django.db import models


class Visibility(models.TextChoices):
    """Who may read an article: agents only, or requesters too (the portal, through `articles_public`)."""

    INTERNAL = "internal", "Internal (agents only)"
    PUBLIC = "public", "Public (requesters too)"
