"""The requester portal's pages (/portal/): sign-in by e-mailed link, own tickets, replies and reports.

Thin: each view reads its form, calls one portal service or selector and renders. Requesters are signed
in by the portal's own cookie (socdesk.portal.session); nothing here reads the agents' session.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from socdesk.accounts.services import contact_name_set
from socdesk.core.actor import Actor, client_ip
from socdesk.core.errors import NotFound, ServiceError
from socdesk.kb.markdown import markdown_html
from socdesk.portal import reports, selectors
from socdesk.portal.forms import NameForm, ReplyForm, ReportForm, SignInForm, incoming_files
from socdesk.portal.session import (
    portal_actor,
    portal_contact,
    portal_sign_in,
    portal_sign_out,
    requester_view,
)
from socdesk.portal.signin import link_redeem
from socdesk.portal.tasks import link_request
from socdesk.portal.throttle import RateLimited


def _status_for(error: ServiceError) -> int:
    return 429 if isinstance(error, RateLimited) else 400


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link. The answer is the same page whether or not the address is known."""
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        if form.is_bot():
            reports.honeypot_tripped(actor=Actor.anonymous("portal sign-in", ip=ip), form="sign-in")
            return render(request, "portal/link_sent.html", {"email": form.cleaned_data["email"]})
        try:
            address = link_request(email=form.cleaned_data["email"], ip=ip)
        except ServiceError as error:
            form.add_error("email", error.message)
            status = _status_for(error)
        else:
            return render(
                request,
                "portal/link_sent.html",
                {"email": address, "minutes": settings.SOCDESK_PORTAL_LINK_MINUTES},
            )
    elif request.method == "POST":
        status = 400
    return render(request, "portal/sign_in.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, secret: str) -> HttpResponse:
    """The mailed link. Opening it shows a button; only pressing it (a POST) spends the link, so a mail
    scanner that follows links cannot use it up."""
    if request.method == "GET":
        page = render(request, "portal/link_confirm.html", {"secret": secret})
        # The secret is in this page's address: never cached. (It is not sent to other sites as a referrer:
        # the site-wide Referrer-Policy is same-origin. "no-referrer" here would make the browser send
        # `Origin: null` with the button's POST, which the CSRF check rightly refuses.)
        page["Cache-Control"] = "no-store"
        return page
    try:
        contact = link_redeem(secret=secret, ip=client_ip(request))
    except ServiceError as error:
        return render(request, "portal/link_invalid.html", {"message": error.message}, status=400)
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ) or not target.startswith("/portal/"):
        target = reverse("portal:home")
    response = HttpResponseRedirect(target)
    portal_sign_in(response, contact)
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    response = HttpResponseRedirect(reverse("portal:sign-in"))
    portal_sign_out(request, response)
    return response


@requester_view
def home(request: HttpRequest) -> HttpResponse:
    """The requester's tickets and the forms they can report with."""
    contact = request.contact  # type: ignore[attr-defined]
    tickets = selectors.tickets_of_contact(contact)[:100]
    return render(request, "portal/home.html", {"tickets": tickets, "topics": selectors.portal_topics()})


@requester_view
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The requester's name, as the security team sees it beside their address."""
    contact = request.contact  # type: ignore[attr-defined]
    form = NameForm(request.POST or None, initial={"name": contact.name})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            contact_name_set(actor=portal_actor(request), contact=contact, name=form.cleaned_data["name"])
        except ServiceError as error:
            form.add_error("name", error.message)
            status = 400
        else:
            messages.success(request, "Your name is saved.")
            return redirect("portal:home")
    return render(request, "portal/profile.html", {"form": form}, status=status)


@requester_view
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, topic_id: int) -> HttpResponse:
    """One help topic's form; a sent report opens a ticket and shows it."""
    try:
        portal_form = selectors.portal_form_get(topic_id)
    except NotFound:
        raise Http404("That form was not found.") from None
    contact = request.contact  # type: ignore[attr-defined]
    form = ReportForm(
        portal_form, request.POST or None, request.FILES or None, initial={"requester_name": contact.name}
    )
    status = 200
    if request.method == "POST":
        actor = portal_actor(request)
        if form.is_bot():
            reports.honeypot_tripped(actor=actor, form=portal_form.topic.name)
            return render(request, "portal/report_sent.html", {"topic": portal_form.topic})
        if form.is_valid():
            reported, reported_name = form.reported() if portal_form.asks_for_email else (b"", "")
            try:
                ticket = reports.report_submit(
                    actor=actor,
                    contact=contact,
                    form=portal_form,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    values=form.custom_values(),
                    attachments=incoming_files(form.cleaned_data["attachments"]),
                    reported=reported,
                    reported_name=reported_name,
                    requester_name=form.cleaned_data["requester_name"],
                )
            except ServiceError as error:
                # A refused name is shown at its field; anything else above the form.
                form.add_error("requester_name" if "name" in error.fields else None, error.message)
                status = _status_for(error)
            else:
                messages.success(request, f"Thank you. Your report is ticket {ticket.number}.")
                return redirect("portal:ticket", number=ticket.number)
        else:
            status = 400
    typed = form.data.get("subject", "").strip() if form.is_bound else ""
    suggested = selectors.public_articles_suggested(typed[:200] or portal_form.topic.name)
    context = {"form": form, "topic": portal_form.topic, "articles": suggested}
    return render(request, "portal/report.html", context, status=status)


@requester_view
def articles_suggested(request: HttpRequest, topic_id: int) -> HttpResponse:
    """The suggested public articles for what the requester typed as the title (htmx, as they type)."""
    try:
        portal_form = selectors.portal_form_get(topic_id)
    except NotFound:
        raise Http404("That form was not found.") from None
    text = request.GET.get("subject", "").strip() or portal_form.topic.name
    articles = selectors.public_articles_suggested(text[:200])
    return render(request, "portal/_articles.html", {"articles": articles})


def article(request: HttpRequest, pk: int) -> HttpResponse:
    """A public knowledge-base article, its Markdown rendered sanitised (public: no sign-in needed)."""
    try:
        found = selectors.public_article_get(pk)
    except NotFound:
        raise Http404("That article was not found.") from None
    # Public, but a signed-in requester still sees who they are and the way back.
    request.contact = portal_contact(request)  # type: ignore[attr-defined]
    return render(request, "portal/article.html", {"article": found, "html": markdown_html(found.body)})


@requester_view
@require_http_methods(["GET", "POST"])
def ticket(request: HttpRequest, number: str) -> HttpResponse:
    """One of the requester's tickets: its status and public thread, and the reply form."""
    contact = request.contact  # type: ignore[attr-defined]
    try:
        found = selectors.ticket_get_for_contact(contact, number)
    except NotFound:
        raise Http404("That ticket was not found.") from None
    form = ReplyForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reports.requester_reply(
                    actor=portal_actor(request),
                    ticket=found,
                    body=form.cleaned_data["body"],
                    attachments=incoming_files(form.cleaned_data["attachments"]),
                )
            except ServiceError as error:
                form.add_error(None, error.message)
                status = 400
            else:
                messages.success(request, "Your message was added.")
                return redirect("portal:ticket", number=found.number)
        else:
            status = 400
    context = {"ticket": found, "entries": selectors.public_thread(found, contact), "form": form}
    return render(request, "portal/ticket.html", context, status=status)


@requester_view
def attachment(request: HttpRequest, number: str, attachment_id: int) -> HttpResponseBase:
    """A file of a public message or reply on the requester's ticket, always as a download."""
    try:
        found = selectors.public_attachment_get(request.contact, number, attachment_id)  # type: ignore[attr-defined]
        handle = found.file.open("rb")
    except (NotFound, FileNotFoundError):
        raise Http404("That file was not found.") from None
    response = FileResponse(
        handle, as_attachment=True, filename=found.filename, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
