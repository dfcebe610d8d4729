from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "socdesk.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        # An agent's reply, from whatever channel, is queued for the requester in the reply's transaction;
        # the console then says what became of it.
        # A new ticket's requester gets the auto-response, queued in the ticket's transaction.
        from socdesk.mail import autoresponse, inbound, outbound
        from socdesk.tickets.history import event_describer_register
        from socdesk.tickets.hooks import hook_register

        hook_register(changed=outbound.on_ticket_change, reply_notice=outbound.reply_notice)
        hook_register(created=autoresponse.autoresponses_after_create)
        event_describer_register("email.autoresponse_skipped", autoresponse.describe_skipped)
        event_describer_register("email.retry_requested", outbound.describe_retry)
        event_describer_register("email.received", inbound.describe_received)
        # Merging tickets moves their e-mails, so replies by Message-ID follow to the survivor.
        from socdesk.mail.merging import MOVER
        from socdesk.tickets.merge_hooks import merge_mover_register

        merge_mover_register(MOVER)
