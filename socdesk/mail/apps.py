from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "socdesk.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        # An agent's reply, from whatever channel, is queued for the requester in the reply's transaction;
        # the console then says what became of it.
        # A new ticket's requester gets the auto-response, queued in the ticket's transaction.
        from socdesk.mail import autoresponse, canned, canned_replies, inbound, outbound, reopen_ack
        from socdesk.mail.models import CannedResponse
        from socdesk.routing.services.filters import filter_reference_register
        from socdesk.routing.vocabulary import ActionType
        from socdesk.tickets.history import event_describer_register
        from socdesk.tickets.hooks import hook_register

        hook_register(changed=outbound.on_ticket_change, reply_notice=outbound.reply_notice)
        hook_register(created=autoresponse.autoresponses_after_create)
        # The composer's canned responses bring their files; a filter's "reply with canned response"
        # replies once the ticket exists.
        hook_register(composed=canned.canned_compose_files)
        hook_register(created=canned_replies.canned_replies_after_create)
        filter_reference_register(ActionType.REPLY_CANNED, CannedResponse, "canned response")
        event_describer_register("email.autoresponse_skipped", autoresponse.describe_skipped)
        event_describer_register("email.retry_requested", outbound.describe_retry)
        event_describer_register("email.received", inbound.describe_received)
        event_describer_register("email.follow_up_opened", inbound.describe_follow_up)
        event_describer_register("email.reopen_ack_skipped", reopen_ack.describe_reopen_ack_skipped)
        # Merging tickets moves their e-mails, so replies by Message-ID follow to the survivor.
        from socdesk.mail.merging import MOVER
        from socdesk.tickets.merge_hooks import merge_mover_register

        merge_mover_register(MOVER)
