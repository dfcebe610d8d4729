"""The admin area's playbooks: the list, the editor (a save that changes the tasks makes a new version),
the versions with what each held, the median time per task, and delete.

Admins only (404 for anyone else). Every change goes through the audited services of
socdesk/cases/services/playbooks.py; a refusal is shown above the form and nothing is saved.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.web import admin_view
from socdesk.adminarea.playbook_forms import PlaybookForm, TemplateRows, playbook_definition, playbook_initial
from socdesk.cases.models import Playbook, PlaybookVersion
from socdesk.cases.selectors import playbook_task_durations, playbook_versions
from socdesk.cases.services import playbook_create, playbook_delete, playbook_update
from socdesk.core.errors import ServiceError

SECTION = "playbooks"


@admin_view
@require_GET
def playbooks(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/playbooks: every playbook with its current version and how often it was applied."""
    rows = (
        Playbook.objects.annotate(applied=Count("runs", distinct=True))
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=PlaybookVersion.objects.annotate(task_count=Count("templates")).order_by("-number"),
            ),
            "topic_links__topic",
        )
        .order_by("name")
    )
    return render(request, "adminarea/playbooks.html", {"rows": rows, "section": SECTION})


def _editor(request: HttpRequest, playbook: Playbook | None) -> HttpResponse:
    settings, rows = playbook_initial(playbook) if playbook else ({"block_resolution": True}, [])
    form = PlaybookForm(request.POST or None, initial=settings)
    templates = TemplateRows(request.POST or None, initial=rows, prefix="tasks")
    if request.method == "POST" and form.is_valid() and templates.is_valid():
        definition = playbook_definition(form, templates)
        actor = request.actor  # type: ignore[attr-defined]
        try:
            if playbook is None:
                saved = playbook_create(actor=actor, definition=definition)
            else:
                before = playbook.current
                saved = playbook_update(actor=actor, playbook=playbook, definition=definition)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            current = saved.current
            if playbook is None:
                messages.success(request, f"Playbook {saved.name} created (version 1).")
            elif current is not None and before is not None and current.pk != before.pk:
                messages.success(
                    request,
                    f"Playbook {saved.name} saved as version {current.number}; tickets it was applied to "
                    "keep their tasks.",
                )
            else:
                messages.success(request, f"Playbook {saved.name} saved (its tasks did not change).")
            return redirect("adminarea:playbook-edit", pk=saved.pk)
    context = {
        "form": form,
        "templates": templates,
        "playbook": playbook,
        "versions": list(playbook_versions(playbook)) if playbook else [],
        "durations": playbook_task_durations(playbook) if playbook else [],
        "applied": playbook.runs.count() if playbook else 0,
        "section": SECTION,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "adminarea/playbook_form.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def playbook_new(request: HttpRequest) -> HttpResponse:
    """GET: an empty editor; POST: create the playbook (version 1)."""
    return _editor(request, None)


@admin_view
@require_http_methods(["GET", "POST"])
def playbook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the editor with the current version, every version and the statistics; POST: save."""
    return _editor(request, get_object_or_404(Playbook.objects.prefetch_related("topic_links"), pk=pk))


@admin_view
@require_POST
def playbook_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: delete a playbook never applied to a ticket (the service refuses otherwise)."""
    playbook = get_object_or_404(Playbook, pk=pk)
    try:
        playbook_delete(actor=request.actor, playbook=playbook)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("adminarea:playbook-edit", pk=pk)
    messages.success(request, f"Playbook {playbook.name} deleted.")
    return redirect("adminarea:playbooks")
