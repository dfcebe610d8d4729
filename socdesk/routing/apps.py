from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "socdesk.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        """Hook the routing steps into the one ticket path (socdesk.tickets.hooks).

        The hooks run in registration order, which is the order below, one line per step: 1. help topics
        and custom forms, 2. ticket filters, 3. auto-assignment, 4. SLA. Each may rely on what the ones
        before it decided: filters override a topic's defaults, auto-assignment only fills what topics and
        filters left empty, and the SLA clock starts on the plan they chose.
        """
        from socdesk.routing import sla_wiring, topic_queue
        from socdesk.routing.apply import filters_after_create, filters_before_create
        from socdesk.routing.apply_events import filters_after_change
        from socdesk.routing.autoassign import assign_drafts, record_auto_assignments
        from socdesk.routing.topic_hooks import topic_drafts_apply, topic_tickets_link
        from socdesk.routing.views import new_ticket_topic_section
        from socdesk.tickets.hooks import hook_register
        from socdesk.tickets.page_sections import new_ticket_section_register

        # 1. help topics/custom forms: the topic's defaults and hints, custom field values checked.
        hook_register(before=topic_drafts_apply, created=topic_tickets_link)
        # 2. ticket filters: route each new ticket (before the write), then notes, status, mail,
        #    webhooks and hit counts (after it); filters with `on_events` run on ticket changes.
        hook_register(
            before=filters_before_create, created=filters_after_create, changed=filters_after_change
        )
        # 3. auto-assignment: a draft still without an assignee gets an on-duty agent by its team's or
        #    department's policy; the after-create hook audits it as the system's doing.
        hook_register(before=assign_drafts, created=record_auto_assignments)
        # 4. SLA: clocks start with the ticket (on the plan chosen above) and follow its changes; it also
        #    registers its queues (At risk, Overdue), queue columns and history wording.
        sla_wiring.register()
        # Not ticket-path steps: the queue's help-topic filter and the search's `topic:` field; the
        # new-ticket form's help-topic section.
        topic_queue.register()
        new_ticket_section_register(new_ticket_topic_section)
        _watch_configuration()
        # /metrics: SLA clocks at risk and breached, read at scrape time.
        from socdesk.core.metrics import reading_register
        from socdesk.routing.metrics import sla_reading

        reading_register("sla", sla_reading)


def _watch_configuration() -> None:
    """Every save or delete of a routing configuration row moves the configuration stamp, whoever makes
    it (services, `config apply`, Django's admin, a cascade), so each process's snapshot of it
    (socdesk/routing/snapshot.py) is replaced at its next use."""
    from django.db.models.signals import post_delete, post_save

    from socdesk.routing import models
    from socdesk.routing.snapshot import configuration_changed

    configuration = (
        models.Schedule,
        models.WorkingHours,
        models.Holiday,
        models.SLAPlan,
        models.SLATarget,
        models.EscalationLevel,
        models.HelpTopic,
        models.FilterRule,
        models.AssignmentPolicy,
        models.CustomForm,
        models.CustomField,
        models.DepartmentSLA,
    )
    for model in configuration:
        post_save.connect(configuration_changed, sender=model, dispatch_uid=f"routing-stamp-save-{model}")
        post_delete.connect(configuration_changed, sender=model, dispatch_uid=f"routing-stamp-delete-{model}")
