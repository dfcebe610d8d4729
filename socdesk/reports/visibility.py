"""Which of the dashboard's live figures an agent may be shown beyond their departments' tickets."""

from __future__ import annotations

from socdesk.accounts.models import Agent
from socdesk.accounts.selectors import visible_department_ids
from socdesk.alerts.models import Integration


def sees_all_ingest(agent: Agent) -> bool:
    """Whether the ingest figures (backlog, alerts per hour: counted over every integration, not per
    department) tell this agent nothing about departments they may not see: admins, and agents who see
    the department of every integration (one without a department is the admins' alone)."""
    seen = visible_department_ids(agent)
    if seen is None:
        return True
    # exclude() keeps the integrations with no department (SQL NULL is not "in" anything).
    return not Integration.objects.exclude(department_id__in=seen).exists()
