"""URLs of the admin area, mounted at /admin-area/ (not /admin/, which is Django's admin)."""

from django.urls import path

from socdesk.adminarea import (
    canned_views,
    filter_views,
    form_views,
    mail_views,
    mailbox_views,
    playbook_views,
    report_schedule_views,
    routing_views,
    tools,
    views,
)

app_name = "adminarea"

urlpatterns = [
    path("", views.home, name="home"),
    path("agents", views.agents, name="agents"),
    path("agents/new", views.agent_new, name="agent-new"),
    path("agents/<int:pk>", views.agent_edit, name="agent-edit"),
    path("agents/<int:pk>/password-link", views.agent_password_link, name="agent-password-link"),
    path("departments", views.departments, name="departments"),
    path("departments/<int:pk>", views.department_edit, name="department-edit"),
    path("teams", views.teams, name="teams"),
    path("teams/<int:pk>", views.team_edit, name="team-edit"),
    path("roles", views.roles, name="roles"),
    path("roles/<int:pk>", views.role_edit, name="role-edit"),
    path("integrations", tools.integrations, name="integrations"),
    path("integrations/new", tools.integration_new, name="integration-new"),
    path("integrations/<int:pk>", tools.integration_edit, name="integration-edit"),
    path("integrations/<int:pk>/try", tools.integration_try, name="integration-try"),
    path("api-keys", tools.apikeys, name="apikeys"),
    path("api-keys/new", tools.apikey_new, name="apikey-new"),
    path("api-keys/<int:pk>/revoke", tools.apikey_revoke_view, name="apikey-revoke"),
    # Mail: the ban list and the templates of the mail sent to requesters.
    path("banned-senders", mail_views.bans, name="bans"),
    path("banned-senders/<int:pk>/delete", mail_views.ban_delete, name="ban-delete"),
    path("mail-templates", mail_views.templates, name="mail-templates"),
    path(
        "mail-templates/<str:kind>/<int:department_pk>", mail_views.template_edit, name="mail-template-edit"
    ),
    # Mail: the canned responses agents insert in the composer.
    path("canned-responses", canned_views.canned_responses, name="canned-responses"),
    path("canned-responses/new", canned_views.canned_new, name="canned-new"),
    path("canned-responses/<int:pk>", canned_views.canned_edit, name="canned-edit"),
    path("canned-responses/<int:pk>/delete", canned_views.canned_remove, name="canned-delete"),
    # Routing: ticket filters (with the dry run), SLA plans, schedules, help topics.
    path("filters", filter_views.filters, name="filters"),
    path("filters/new", filter_views.filter_new, name="filter-new"),
    path("filters/dry-run", filter_views.filters_dry_run, name="filters-dry-run"),
    path("filters/<int:pk>", filter_views.filter_edit, name="filter-edit"),
    path("filters/<int:pk>/dry-run", filter_views.filter_dry_run, name="filter-dry-run"),
    path("filters/<int:pk>/toggle", filter_views.filter_toggle, name="filter-toggle"),
    path("filters/<int:pk>/move", filter_views.filter_reorder, name="filter-move"),
    path("filters/<int:pk>/delete", filter_views.filter_remove, name="filter-delete"),
    path("sla-plans", routing_views.plans, name="sla-plans"),
    path("sla-plans/new", routing_views.plan_new, name="sla-plan-new"),
    path("sla-plans/<int:pk>", routing_views.plan_edit, name="sla-plan-edit"),
    path("sla-plans/<int:pk>/delete", routing_views.plan_remove, name="sla-plan-delete"),
    path("schedules", routing_views.schedules, name="schedules"),
    path("schedules/new", routing_views.schedule_new, name="schedule-new"),
    path("schedules/<int:pk>", routing_views.schedule_edit, name="schedule-edit"),
    path("schedules/<int:pk>/delete", routing_views.schedule_remove, name="schedule-delete"),
    path("help-topics", routing_views.topics, name="help-topics"),
    path("help-topics/new", routing_views.topic_new, name="help-topic-new"),
    path("help-topics/<int:pk>", routing_views.topic_edit, name="help-topic-edit"),
    path("help-topics/<int:pk>/delete", routing_views.topic_remove, name="help-topic-delete"),
    # Custom forms and their fields (the help topic page picks a topic's form).
    path("custom-forms", form_views.custom_forms, name="custom-forms"),
    path("custom-forms/new", form_views.custom_form_new, name="custom-form-new"),
    path("custom-forms/<int:pk>", form_views.custom_form_edit, name="custom-form-edit"),
    path("custom-forms/<int:pk>/delete", form_views.custom_form_remove, name="custom-form-delete"),
    path("custom-forms/<int:pk>/fields/new", form_views.custom_field_new, name="custom-field-new"),
    path(
        "custom-forms/<int:pk>/fields/<int:field_pk>", form_views.custom_field_edit, name="custom-field-edit"
    ),
    path(
        "custom-forms/<int:pk>/fields/<int:field_pk>/delete",
        form_views.custom_field_remove,
        name="custom-field-delete",
    ),
    # Playbooks: versioned task lists applied to tickets (socdesk/cases).
    path("playbooks", playbook_views.playbooks, name="playbooks"),
    path("playbooks/new", playbook_views.playbook_new, name="playbook-new"),
    path("playbooks/<int:pk>", playbook_views.playbook_edit, name="playbook-edit"),
    path("playbooks/<int:pk>/delete", playbook_views.playbook_remove, name="playbook-delete"),
    # Mail: the IMAP mailboxes SOCdesk fetches.
    path("mailboxes", mailbox_views.mailboxes, name="mailboxes"),
    path("mailboxes/new", mailbox_views.mailbox_new, name="mailbox-new"),
    path("mailboxes/<int:pk>", mailbox_views.mailbox_edit, name="mailbox-edit"),
    path("mailboxes/<int:pk>/test", mailbox_views.mailbox_check, name="mailbox-test"),
    path("mailboxes/<int:pk>/delete", mailbox_views.mailbox_remove, name="mailbox-delete"),
    # Reports: the scheduled SOC reports.
    path("reports", report_schedule_views.report_schedules, name="report-schedules"),
    path("reports/new", report_schedule_views.report_schedule_new, name="report-schedule-new"),
    path("reports/<int:pk>", report_schedule_views.report_schedule_edit, name="report-schedule-edit"),
    path(
        "reports/<int:pk>/preview.pdf",
        report_schedule_views.report_schedule_preview,
        name="report-schedule-preview",
    ),
    path(
        "reports/<int:pk>/delete", report_schedule_views.report_schedule_remove, name="report-schedule-delete"
    ),
]
