from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "socdesk.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # The routing steps on the one ticket path, in this order: each may rely on what the ones
        # before it decided (tickets.hooks runs hooks in the order they are registered).
        # 1. help topics/custom forms: the topic's defaults and hints, custom field values checked
        from socdesk.routing.topic_hooks import topic_drafts_apply, topic_tickets_link
        from socdesk.tickets.hooks import hook_register

        hook_register(before=topic_drafts_apply, created=topic_tickets_link)
        # (end of 1. help topics/custom forms)
