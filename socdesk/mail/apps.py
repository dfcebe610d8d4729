from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "socdesk.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        # An agent's reply, from whatever channel, is queued for the requester in the reply's transaction;
        # the console then says what became of it.
        from socdesk.mail import inbound, outbound
        from socdesk.tickets.history import event_describer_register
        from socdesk.tickets.hooks import hook_register

        hook_register(changed=outbound.on_ticket_change, reply_notice=outbound.reply_notice)
        event_describer_register("email.retry_requested", outbound.describe_retry)
        event_describer_register("email.received", inbound.describe_received)
