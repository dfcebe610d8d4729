from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "socdesk.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        # The ticket filter (web queues and API) can narrow by observable; tickets sits below alerts,
        # so alerts hands it the lookup instead of tickets importing alerts.
        from socdesk.alerts.selectors import ticket_match_for_observable
        from socdesk.tickets.filters import observable_lookup_register

        observable_lookup_register(ticket_match_for_observable)

        # Ticket writes (console, REST and osTicket API opens; replies and notes on request) find and
        # link observables through the same seam (socdesk.tickets.observables).
        from socdesk.alerts.observables import extract
        from socdesk.alerts.ticket_observables import observables_link_found
        from socdesk.tickets.observables import ObservableFinder, observable_finder_register

        observable_finder_register(
            ObservableFinder(find=lambda text: extract([], text), link=observables_link_found)
        )
