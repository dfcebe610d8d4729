from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "socdesk.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # Routing sits above tickets: it hooks into the one ticket path (socdesk.tickets.hooks) instead of
        # tickets importing it. Order of registration: 1. help topics and custom forms, 2. ticket filters,
        # 3. auto-assignment, 4. SLA (which reads what the others decided, e.g. hints["sla_plan"]).

        # --- 4. SLA: clocks start with the ticket and follow its changes; queues, columns, API --------
        from socdesk.routing import sla_wiring

        sla_wiring.register()
