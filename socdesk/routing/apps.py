from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "socdesk.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # The ticket hooks run in registration order, which is the order below; keep each app's lines
        # in its numbered block: 1. help topics / custom forms, 2. ticket filters, 3. auto-assignment,
        # 4. SLA. Auto-assignment comes after filters and topics, so it only fills what they left empty.
        # 3. auto-assignment: a draft still without an assignee gets an on-duty agent by its team's or
        # department's policy; the after-create hook audits it as the system's doing.
        from socdesk.routing.autoassign import assign_drafts, record_auto_assignments
        from socdesk.tickets.hooks import hook_register

        hook_register(before=assign_drafts, created=record_auto_assignments)
