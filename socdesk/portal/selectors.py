"""What a requester may read in the portal: their own tickets (as requester or collaborator), their
public thread (messages and replies: never notes, events, observables or alerts), and the help topics
offered as forms. Anything else is NotFound, never "forbidden"."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from socdesk.accounts.models import Contact
from socdesk.core.errors import NotFound
from socdesk.kb.models import Article
from socdesk.kb.search import ranked_ids, suggestion_terms
from socdesk.kb.selectors import article_get_from, articles_public
from socdesk.routing.models import CustomField, HelpTopic
from socdesk.routing.selectors import topic_form_id
from socdesk.tickets.choices import EntryKind
from socdesk.tickets.models import Attachment, Collaborator, ThreadEntry, Ticket
from socdesk.tickets.selectors import ticket_get_from, ticket_thread

# A custom field with this name turns a form into "report a suspicious e-mail": the portal asks for the
# message (a .eml file, or its headers and body pasted into this field) and reads it like forwarded mail.
SUSPICIOUS_EMAIL_FIELD = "suspicious_email"


def tickets_of_contact(contact: Contact) -> QuerySet[Ticket]:
    """The tickets the contact asked for or is copied on, most recently active first."""
    copied = Collaborator.objects.filter(contact=contact).values("ticket_id")
    return Ticket.objects.filter(Q(requester=contact) | Q(pk__in=copied)).order_by("-last_activity_at", "-id")


def ticket_get_for_contact(contact: Contact, number: str) -> Ticket:
    """The contact's ticket with this number; NotFound for any other (another's or none)."""
    return ticket_get_from(tickets_of_contact(contact), number)


def _shown_to(contact: Contact) -> Q:
    """What of a thread one person sees: the agents' replies and their own messages. Other people's
    messages stay out: a colleague copied on the ticket, or the reporter of a duplicate merged into it,
    wrote to the SOC, not to them."""
    return Q(kind=EntryKind.REPLY) | Q(kind=EntryKind.MESSAGE, author_contact=contact)


def public_thread(ticket: Ticket, contact: Contact) -> QuerySet[ThreadEntry]:
    """The thread as `contact` sees it in the portal (see _shown_to), with attachments."""
    return ticket_thread(ticket, include_internal=False).filter(_shown_to(contact))


def public_attachment_get(contact: Contact, number: str, attachment_id: int) -> Attachment:
    """A file of an entry the contact sees on their ticket; NotFound otherwise (a note's file, another
    person's message's file)."""
    ticket = ticket_get_for_contact(contact, number)
    shown = ThreadEntry.objects.filter(ticket=ticket).filter(_shown_to(contact)).values("pk")
    found = Attachment.objects.filter(pk=attachment_id, entry__in=shown)
    attachment = found.first()
    if attachment is None:
        raise NotFound("That file was not found.")
    return attachment


@dataclass(frozen=True)
class PortalForm:
    """A help topic as the portal offers it: its fields requesters see, and whether it asks for a
    suspicious e-mail."""

    topic: HelpTopic
    fields: tuple[CustomField, ...]
    asks_for_email: bool


def portal_topics() -> list[HelpTopic]:
    """The help topics offered in the portal (portal-visible ones), by name."""
    return list(HelpTopic.objects.filter(portal_visible=True).select_related("parent").order_by("name"))


def portal_form_get(topic_id: int) -> PortalForm:
    """The portal form of a portal-visible help topic; NotFound for any other."""
    topic = HelpTopic.objects.select_related("parent", "department").filter(pk=topic_id, portal_visible=True)
    found = topic.first()
    if found is None:
        raise NotFound("That form was not found.")
    form_id = topic_form_id(found)
    rows = (
        CustomField.objects.filter(form_id=form_id, user_visible=True)
        if form_id
        else CustomField.objects.none()
    )
    fields = tuple(rows.order_by("order", "id"))
    asks = any(f.name == SUSPICIOUS_EMAIL_FIELD for f in fields)
    return PortalForm(found, tuple(f for f in fields if f.name != SUSPICIOUS_EMAIL_FIELD), asks)


def public_articles_suggested(text: str, *, limit: int = 5) -> list[Article]:
    """Public knowledge-base articles about what the requester is typing (a report's title, else the
    form's name), best first: shown before they send, in case one answers their question."""
    ids = ranked_ids(suggestion_terms(text, []), any_of=True, limit=limit * 4)
    found = {a.pk: a for a in articles_public().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found][:limit]


def public_article_get(pk: int) -> Article:
    """A public article; NotFound for an internal one or none."""
    return article_get_from(articles_public(), pk)
