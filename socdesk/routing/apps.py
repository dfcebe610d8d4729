from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "socdesk.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # The routing steps on the one ticket path. The ticket hooks run in registration order, which
        # is the order below; keep each step's lines in its numbered block: 1. help topics / custom
        # forms, 2. ticket filters, 3. auto-assignment, 4. SLA. Each may rely on what the ones before it
        # decided: auto-assignment only fills what topics and filters left empty.
        # 1. help topics/custom forms: the topic's defaults and hints, custom field values checked
        from socdesk.routing.topic_hooks import topic_drafts_apply, topic_tickets_link
        from socdesk.tickets.hooks import hook_register

        hook_register(before=topic_drafts_apply, created=topic_tickets_link)
        # (end of 1. help topics/custom forms)
        # 3. auto-assignment: a draft still without an assignee gets an on-duty agent by its team's or
        # department's policy; the after-create hook audits it as the system's doing.
        from socdesk.routing.autoassign import assign_drafts, record_auto_assignments

        hook_register(before=assign_drafts, created=record_auto_assignments)
