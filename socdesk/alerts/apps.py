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
        # ... and by origin and rule (the first alert's tool and rule) for the dashboard's drill-downs.
        from socdesk.alerts.choices import Adapter
        from socdesk.alerts.selectors import tickets_first_alert_from, tickets_first_alert_rule
        from socdesk.tickets.filters import alert_criteria_register

        alert_criteria_register(
            tools=(*Adapter.values, "alert"), origin=tickets_first_alert_from, rule=tickets_first_alert_rule
        )

        # Ticket writes (console, REST and osTicket API opens; replies and notes on request) find and
        # link observables through the same seam (socdesk.tickets.observables).
        from socdesk.alerts.observables import extract
        from socdesk.alerts.ticket_observables import observables_link_found
        from socdesk.tickets.observables import ObservableFinder, observable_finder_register

        observable_finder_register(
            ObservableFinder(find=lambda text: extract([], text), link=observables_link_found)
        )
        # Search: alerts and observables are part of every ticket's search document, and `ip:`,
        # `hash:`... select tickets by observable.
        from socdesk.alerts import search
        from socdesk.tickets.search import (
            search_contributor_register,
            search_field_register,
            search_normaliser_register,
        )

        search_contributor_register(search.ticket_search_parts, search.new_ticket_search_parts)
        search_normaliser_register(search.normalised_term)
        for name in search.FIELD_TYPES:
            search_field_register(name, search.observable_field)
        # Merging tickets moves their alerts, de-duplication keys and observables too.
        from socdesk.alerts.merging import MOVER
        from socdesk.tickets.merge_hooks import merge_mover_register

        merge_mover_register(MOVER)
        # /metrics: the ingest backlog, read at scrape time.
        from socdesk.alerts.adapters import ADAPTERS
        from socdesk.alerts.metrics import backlog_reading
        from socdesk.core.metrics import DELIVERIES_ACKNOWLEDGED, DELIVERIES_RECEIVED, reading_register

        reading_register("ingest", backlog_reading)
        for adapter in ADAPTERS:  # shown at 0 from the start, so that rate() sees the first delivery
            DELIVERIES_RECEIVED.labels(adapter=adapter)
            DELIVERIES_ACKNOWLEDGED.labels(adapter=adapter)
