"""Every kind the configuration file holds, in the order apply writes them (each names only earlier ones).

A new kind is one `Kind` in a module here and one line in
`KINDS`, placed after the kinds it names.
"""

from __future__ import annotations

from socdesk.ops.config.kinds.accounts import AGENTS, DEPARTMENTS, ROLES, TEAMS
from socdesk.ops.config.kinds.alerts import INTEGRATIONS
from socdesk.ops.config.kinds.base import Kind, Referable
from socdesk.ops.config.kinds.canned_kb import CANNED_RESPONSES, KB_CATEGORIES
from socdesk.ops.config.kinds.filters import FILTERS
from socdesk.ops.config.kinds.forms import CUSTOM_FORMS
from socdesk.ops.config.kinds.mail import MAILBOXES
from socdesk.ops.config.kinds.mail_bans import BANNED_SENDERS
from socdesk.ops.config.kinds.playbooks import PLAYBOOKS
from socdesk.ops.config.kinds.reports import REPORT_SCHEDULES
from socdesk.ops.config.kinds.routing import DEPARTMENT_SLA, HELP_TOPICS, SCHEDULES, SLA_PLANS

KINDS: tuple[Kind, ...] = (
    DEPARTMENTS,
    ROLES,
    TEAMS,
    SCHEDULES,
    SLA_PLANS,
    DEPARTMENT_SLA,
    CUSTOM_FORMS,
    HELP_TOPICS,
    INTEGRATIONS,
    MAILBOXES,
    PLAYBOOKS,
    CANNED_RESPONSES,
    FILTERS,
    BANNED_SENDERS,
    KB_CATEGORIES,
    REPORT_SCHEDULES,
)

# What entries may name: every kind, and agents (by username), which the file does not create.
REFERABLES: dict[str, Referable] = {AGENTS.key: AGENTS, **{kind.key: kind.referable for kind in KINDS}}
