"""The admin area's ticket filter pages: the list in run order (move, turn on/off, hit counts, warnings),
the editor (conditions and actions as rows) and the dry run. Admins only, like the rest of the admin
area's configuration: for anyone else the pages do not exist (404).

Every write goes through the routing services, which check the whole filter with the same compiler that
evaluates it; their refusal is shown next to the condition or action row it names, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.db.models import Max
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.web import admin_view
from socdesk.adminarea.filter_trial import (
    Trial,
    TrialError,
    run_trial,
    subjects_for_payload,
    subjects_for_ticket_number,
)
from socdesk.adminarea.routing_forms import (
    ACTION_LABELS,
    FIELD_SUGGESTIONS,
    OPERATOR_LABELS,
    OPERATOR_VALUES,
    ROW_NUMBER,
    TARGET_KINDS,
    ActionRows,
    ConditionRows,
    DryRunForm,
    FilterForm,
    RowError,
    action_initial,
    action_value,
    condition_initial,
    target_choices,
)
from socdesk.adminarea.views import show_refusal
from socdesk.core.errors import ServiceError
from socdesk.routing.choices import FilterEvent
from socdesk.routing.models import FilterRule
from socdesk.routing.selectors import ruleset_skipped, webhook_deliveries_of
from socdesk.routing.services.filter_order import ORDER_STEP, filter_move, filter_set_enabled
from socdesk.routing.services.filters import FilterDefinition, filter_create, filter_delete, filter_update
from socdesk.routing.vocabulary import ActionType, Operator

SECTION = "filters"


# --- the list ----------------------------------------------------------------------------------------------


@admin_view
@require_GET
def filters(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/filters: every filter in run order, with its hits, last match and any warning."""
    return _list_page(request, DryRunForm(), trials=None, error="")


def _list_page(
    request: HttpRequest, form: DryRunForm, *, trials, error: str, status: int = 200
) -> HttpResponse:
    rows = list(FilterRule.objects.order_by("order", "id"))
    # Enabled filters that no longer compile are left out of the run by the ruleset: warn about them too.
    skipped = dict(ruleset_skipped())
    global_secret = bool(django_settings.SOCDESK_FILTER_WEBHOOK_SECRET)
    context = {
        "rows": [
            {
                "rule": rule,
                "warning": rule.disabled_reason or skipped.get(rule.pk, ""),
                "events": _event_labels(rule),
                "webhook": _webhook_signing(rule, global_secret),
            }
            for rule in rows
        ],
        "form": form,
        **_result_context(trials, error),
        "section": SECTION,
    }
    return render(request, "adminarea/filters.html", context, status=status)


def _event_labels(rule: FilterRule) -> list[str]:
    events = rule.on_events if isinstance(rule.on_events, list) else []
    return [FilterEvent(e).label for e in FilterEvent.values if e in events]


def _has_webhook(actions: Any) -> bool:
    return any(isinstance(a, dict) and a.get("type") == ActionType.WEBHOOK for a in actions or [])


def _webhook_signing(rule: FilterRule, global_secret: bool) -> str:
    """How the filter's webhook calls are signed: "own", "global", "unsigned", or "" without a webhook."""
    if not _has_webhook(rule.actions):
        return ""
    if rule.webhook_secret:
        return "own"
    return "global" if global_secret else "unsigned"


@admin_view
@require_POST
def filter_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: turn a filter on or off (a filter that no longer compiles cannot be turned on)."""
    rule = get_object_or_404(FilterRule, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    try:
        filter_set_enabled(actor=request.actor, rule=rule, enabled=enabled)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Filter {rule.name} turned {'on' if enabled else 'off'}.")
    return redirect("adminarea:filters")


@admin_view
@require_POST
def filter_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """POST direction=up|down: move a filter one place in the run order."""
    rule = get_object_or_404(FilterRule, pk=pk)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        messages.error(request, "Move a filter up or down.")
        return redirect("adminarea:filters")
    try:
        filter_move(actor=request.actor, rule=rule, offset=offset)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Filter {rule.name} moved {request.POST['direction']}.")
    return redirect("adminarea:filters")


@admin_view
@require_POST
def filter_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: delete a filter."""
    rule = get_object_or_404(FilterRule, pk=pk)
    filter_delete(actor=request.actor, rule=rule)  # type: ignore[attr-defined]
    messages.success(request, f"Filter {rule.name} deleted.")
    return redirect("adminarea:filters")


# --- the dry run ---------------------------------------------------------------------------------------


def _trials(request: HttpRequest, form: DryRunForm, rule: FilterRule | None):
    """The trials for a valid dry-run form, or the sentence saying why there are none."""
    if not form.is_valid():
        errors = [str(e) for errors in form.errors.values() for e in errors]
        return None, " ".join(errors) or "Check the dry run's fields."
    data = form.cleaned_data
    try:
        if data["ticket"].strip():
            subjects = subjects_for_ticket_number(request.agent, data["ticket"])  # type: ignore[attr-defined]
        else:
            subjects = subjects_for_payload(data["adapter"], data["payload"], data["integration"])
        return run_trial(subjects, rule), ""
    except TrialError as exc:
        return None, str(exc)


@admin_view
@require_POST
def filters_dry_run(request: HttpRequest) -> HttpResponse:
    """POST: what the enabled filters, in order, would do to a ticket or a sample payload; writes nothing.
    htmx swaps the result into the list page; a plain POST gets the whole list page with it."""
    form = DryRunForm(request.POST)
    trials, error = _trials(request, form, None)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "adminarea/_dry_run.html", _result_context(trials, error))
    return _list_page(request, form, trials=trials, error=error, status=400 if error else 200)


@admin_view
@require_POST
def filter_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: what this one filter (enabled or not) would do to a ticket or a sample payload."""
    rule = get_object_or_404(FilterRule, pk=pk)
    form = DryRunForm(request.POST)
    trials, error = _trials(request, form, rule)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "adminarea/_dry_run.html", _result_context(trials, error))
    return _editor(request, rule, dry_run_form=form, trials=trials, error=error)


def _result_context(trials, error: str) -> dict[str, Any]:
    return {"results": _present(trials) if trials is not None else None, "error": error}


def _present(trials: list[Trial]) -> list[dict[str, Any]]:
    """The trials as sentences: conditions written out, actions with the names of what they point at."""
    names = {value: label for _group, options in target_choices() for value, label in options}
    results = []
    for trial in trials:
        by_id = {f.id: f for f in trial.outcome.filters}

        def action_text(action) -> str:
            kind = TARGET_KINDS.get(action.type)
            value = action.value
            if kind is not None:
                value = names.get(f"{kind}:{value}", value)
            elif isinstance(value, list | tuple):
                value = ", ".join(str(item) for item in value)
            label = ACTION_LABELS.get(action.type, action.type)
            return f"{label}: {value}" if value not in (None, "") else str(label)

        results.append(
            {
                "label": trial.label,
                "filters": [
                    {
                        "id": f.id,
                        "name": f.name,
                        "matched": f.matched,
                        "not_considered": f.not_considered,
                        "conditions": [
                            {
                                "text": f"{c.field} {_operator(c.operator)} {_shown(c.value)}",
                                "held": c.held,
                                "timed_out": c.timed_out,
                            }
                            for c in f.conditions
                        ],
                    }
                    for f in trial.outcome.filters
                ],
                "actions": [
                    (by_id[a.filter_id].name if a.filter_id in by_id else "", action_text(a))
                    for a in trial.outcome.evaluation.actions
                ],
                "timeouts": [
                    f"{by_id[t.filter_id].name if t.filter_id in by_id else t.filter_id}, condition "
                    f"{t.condition_index + 1}: the regular expression ran out of time (counted as no match)."
                    for t in trial.outcome.evaluation.timeouts
                ],
            }
        )
    return results


def _operator(name: str) -> str:
    return OPERATOR_LABELS[Operator(name)] if name in OPERATOR_VALUES else name


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return repr(value) if isinstance(value, str) else str(value)


# --- the editor ----------------------------------------------------------------------------------------


@admin_view
@require_http_methods(["GET", "POST"])
def filter_new(request: HttpRequest) -> HttpResponse:
    """GET shows an empty filter; POST creates it (or adds a row when asked to)."""
    return _editor(request, None)


@admin_view
@require_http_methods(["GET", "POST"])
def filter_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the filter with its rows and the dry run; POST saves it (or adds a row when asked to)."""
    return _editor(request, get_object_or_404(FilterRule, pk=pk))


def _initial(rule: FilterRule | None) -> tuple[dict[str, Any], list[dict], list[dict]]:
    if rule is None:
        return {}, [{"operator": "contains"}], [{}, {}]
    settings = {
        "name": rule.name,
        "enabled": rule.enabled,
        "channel": rule.channel,
        "integration": rule.channel_id,
        "match_all": "1" if rule.match_all else "0",
        "stop_on_match": rule.stop_on_match,
        "time_zone": rule.time_zone,
        "on_events": list(rule.on_events) if isinstance(rule.on_events, list) else [],
    }
    conditions = [condition_initial(c) for c in rule.conditions if isinstance(c, dict)]
    actions = [action_initial(a) for a in rule.actions if isinstance(a, dict)]
    return settings, conditions or [{}], actions or [{}]


def _posted_rows(data, prefix: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows of a posted formset as initial values."""
    try:
        total = min(int(data.get(f"{prefix}-TOTAL_FORMS", "0")), 200)
    except ValueError:
        total = 0
    return [{name: data.get(f"{prefix}-{index}-{name}", "") for name in names} for index in range(total)]


def _editor(
    request: HttpRequest,
    rule: FilterRule | None,
    *,
    dry_run_form: DryRunForm | None = None,
    trials=None,
    error: str = "",
) -> HttpResponse:
    targets = target_choices()
    settings, condition_rows, action_rows = _initial(rule)
    posted = request.method == "POST" and dry_run_form is None
    adding = request.POST.get("add") if posted else None
    if posted and adding in ("condition", "action"):
        # Shown again as typed, with one more empty row, and unbound: nothing is checked or saved yet.
        data = request.POST
        settings = {name: data.get(name) for name in FilterForm.base_fields if name in data}
        settings["on_events"] = data.getlist("on_events")
        settings.pop("webhook_secret", None)  # write-only: never put back into the page
        settings.setdefault("enabled", False)
        condition_rows = _posted_rows(data, "cond", ("field", "operator", "value"))
        action_rows = _posted_rows(data, "act", ("type", "target", "value"))
        (condition_rows if adding == "condition" else action_rows).append({})
        form = FilterForm(initial=settings)
        conditions = ConditionRows(initial=condition_rows, prefix="cond")
        actions = ActionRows(initial=action_rows, prefix="act", form_kwargs={"targets": targets})
    elif posted:
        form = FilterForm(request.POST)
        conditions = ConditionRows(request.POST, prefix="cond")
        actions = ActionRows(request.POST, prefix="act", form_kwargs={"targets": targets})
    else:
        form = FilterForm(initial=settings)
        conditions = ConditionRows(initial=condition_rows, prefix="cond")
        actions = ActionRows(initial=action_rows, prefix="act", form_kwargs={"targets": targets})
    status = 200
    if posted and not adding:
        saved = _save(request, rule, form, conditions, actions)
        if saved is not None:
            verb = "created" if rule is None else "saved"
            messages.success(request, f"Filter {saved.name} {verb}.")
            return redirect("adminarea:filter-edit", pk=saved.pk)
        status = 400
    # A secret typed in a page that comes back (refused, or a row added) is not kept in it: say so.
    secret_typed = posted and bool(request.POST.get("webhook_secret", "").strip())
    shown_actions: Any = rule.actions if rule is not None else []
    if posted:
        shown_actions = _posted_rows(request.POST, "act", ("type",))
    context = {
        "form": form,
        "conditions": conditions,
        "actions": actions,
        "rule": rule,
        "has_webhook": _has_webhook(shown_actions),
        "secret_set": rule is not None and bool(rule.webhook_secret),
        "secret_typed": secret_typed,
        "deliveries": webhook_deliveries_of(rule) if rule is not None else [],
        "field_suggestions": FIELD_SUGGESTIONS,
        "dry_run_form": dry_run_form or DryRunForm(),
        **_result_context(trials, error),
        "section": SECTION,
    }
    return render(request, "adminarea/filter_form.html", context, status=400 if error else status)


def _save(
    request: HttpRequest,
    rule: FilterRule | None,
    form: FilterForm,
    conditions: BaseFormSet,
    actions: BaseFormSet,
) -> FilterRule | None:
    """Create or update the filter from valid rows; None (with the errors placed) when anything is refused."""
    valid = form.is_valid() & conditions.is_valid() & actions.is_valid()
    if not valid:
        return None
    # Rows left empty are skipped; the service numbers what it is given, so keep which row each one was.
    condition_forms = [row for row in conditions.forms if not row.is_blank()]
    action_forms = [row for row in actions.forms if not row.is_blank()]
    action_values = []
    for number, row in enumerate(action_forms, start=1):
        data = row.cleaned_data
        try:
            action_values.append(
                {
                    "type": data["type"],
                    "value": action_value(number, data["type"], data["target"], data["value"]),
                }
            )
        except RowError as exc:
            row.add_error("target", str(exc))
            return None
    data = form.cleaned_data
    integration = data["integration"]
    definition = FilterDefinition(
        name=data["name"],
        conditions=[
            {
                "field": row.cleaned_data["field"].strip(),
                "operator": row.cleaned_data["operator"],
                "value": row.cleaned_data["value"],
            }
            for row in condition_forms
        ],
        actions=action_values,
        order=rule.order if rule is not None else _next_order(),
        enabled=data["enabled"],
        channel=data["channel"],
        channel_id=integration.pk if integration is not None else None,
        match_all=data["match_all"],
        stop_on_match=data["stop_on_match"],
        time_zone=data["time_zone"],
        on_events=data["on_events"],
        webhook_secret=_secret(rule, data),
    )
    try:
        if rule is None:
            return filter_create(actor=request.actor, definition=definition)  # type: ignore[attr-defined]
        return filter_update(actor=request.actor, rule=rule, definition=definition)  # type: ignore[attr-defined]
    except ServiceError as exc:
        _place_refusal(exc, form, condition_forms, action_forms)
        return None


def _secret(rule: FilterRule | None, data: dict[str, Any]) -> str:
    """The secret to store: the one typed; none when removal is ticked; else the one stored (kept)."""
    if data["remove_webhook_secret"]:
        return ""
    typed = data["webhook_secret"]
    if typed.strip():
        return typed
    return rule.webhook_secret if rule is not None else ""


def _place_refusal(exc: ServiceError, form: FilterForm, condition_forms: list, action_forms: list) -> None:
    """Put the service's message on the row it names ("condition 2", "action 1"), else on the form.
    A refusal about the events or the secret goes next to those fields, even when it names an action."""
    for name in ("on_events", "webhook_secret"):
        if name in exc.fields:
            form.add_error(name, exc.message)
            return
    found = ROW_NUMBER.search(exc.message)
    if found is not None:
        kind, number = found.group(1), int(found.group(2))
        rows = condition_forms if kind == "condition" else action_forms
        if 1 <= number <= len(rows):
            rows[number - 1].add_error(None, exc.message)
            form.add_error(None, f"Check {kind} {number} below: it was refused, nothing was saved.")
            return
    show_refusal(form, exc)


def _next_order() -> int:
    """A new filter runs last."""
    highest = FilterRule.objects.aggregate(highest=Max("order"))["highest"]
    return (highest or 0) + ORDER_STEP
