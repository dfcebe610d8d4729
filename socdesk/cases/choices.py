"""The tasks' vocabulary: a task's status."""

from django.db import models


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


# A task in one of these still needs doing (a required one blocks resolving its ticket).
PENDING_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
