from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "socdesk.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        """Hook the routing steps into the one ticket path, in this order (each block one step)."""
        # 1. help topics and custom forms
        # 2. ticket filters: route each new ticket (before the write), then notes, status, mail, webhooks
        #    and hit counts (after it); filters with `on_events` run on ticket changes.
        from socdesk.routing.apply import filters_after_create, filters_before_create
        from socdesk.routing.apply_events import filters_after_change
        from socdesk.tickets.hooks import hook_register

        hook_register(
            before=filters_before_create, created=filters_after_create, changed=filters_after_change
        )

        # 3. auto-assignment

        # 4. SLA
