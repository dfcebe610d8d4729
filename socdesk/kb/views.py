"""The console's knowledge base: the articles by category, search, reading, writing with a preview, the
categories (administrators), and the "Suggested articles" panel of the ticket page (loaded by htmx)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.web import agent_view
from socdesk.core.errors import NotFound, ServiceError
from socdesk.kb import services
from socdesk.kb.forms import ArticleForm, CategoryForm
from socdesk.kb.markdown import markdown_html
from socdesk.kb.models import Article, Category
from socdesk.kb.selectors import (
    article_get_from,
    article_search,
    articles_for_agents,
    articles_suggested_for,
    categories_with_counts,
)
from socdesk.tickets.selectors import ticket_get_for_agent


def _refused(form, exc: ServiceError) -> None:
    """The service's refusal on the form: on the fields it names, else on the form."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for field, sentence in exc.fields.items():
        named = field in form.fields
        form.add_error(field if named else None, sentence if len(sentence) > 20 else exc.message)


@agent_view
@require_GET
def kb_home(request: HttpRequest) -> HttpResponse:
    """GET /kb/: the articles by category; `?q=` searches them (best match first); `?category=` one."""
    search = request.GET.get("q", "").strip()[:500]
    categories = list(categories_with_counts())
    chosen = request.GET.get("category", "")
    articles = articles_for_agents()
    errors: list[str] = []
    groups: list[tuple[Category | None, list[Article]]]
    if chosen.isdigit():
        articles = articles.filter(category_id=int(chosen))
    elif chosen == "none":
        articles = articles.filter(category__isnull=True)
    if search:
        found, errors = article_search(articles, search)
        groups = [(None, found)]
    else:
        by_category: dict[int | None, list[Article]] = {}
        for article in articles.order_by("category__order", "category__name", "title"):
            by_category.setdefault(article.category_id, []).append(article)
        named = {c.pk: c for c in categories}
        groups = [(named.get(pk) if pk else None, rows) for pk, rows in by_category.items()]
    context = {
        "groups": groups,
        "categories": categories,
        "search": search,
        "chosen": chosen,
        "errors": errors,
        "category_form": CategoryForm() if request.agent.is_admin else None,  # type: ignore[attr-defined]
    }
    return render(request, "kb/home.html", context)


@agent_view
@require_GET
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /kb/articles/<id>: one article, its Markdown rendered sanitised."""
    article = article_get_from(articles_for_agents(), pk)
    return render(request, "kb/article.html", {"article": article, "html": markdown_html(article.body)})


def _article_form_page(request: HttpRequest, article: Article | None) -> HttpResponse:
    """The new/edit page: `preview` renders the posted Markdown, `save` stores it (refused: the page
    comes back with the message and the text as typed)."""
    initial = {}
    if article is not None:
        initial = {
            "title": article.title,
            "category": article.category_id,
            "visibility": article.visibility,
            "body": article.body,
        }
    form = ArticleForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("action") == "preview":
            preview = markdown_html(data["body"])
        else:
            fields = {
                "title": data["title"],
                "body": data["body"],
                "visibility": data["visibility"],
                "category": data["category"],
            }
            try:
                if article is None:
                    article = services.article_create(actor=request.actor, **fields)  # type: ignore[attr-defined]
                    messages.success(request, "Article published.")
                else:
                    services.article_update(actor=request.actor, article=article, **fields)  # type: ignore[attr-defined]
                    messages.success(request, "Article saved.")
                return redirect("kb:article", pk=article.pk)
            except ServiceError as exc:
                _refused(form, exc)
    status = 400 if form.errors else 200
    return render(
        request, "kb/article_form.html", {"form": form, "article": article, "preview": preview}, status=status
    )


@agent_view
@require_http_methods(["GET", "POST"])
def article_new(request: HttpRequest) -> HttpResponse:
    """GET/POST /kb/articles/new."""
    return _article_form_page(request, None)


@agent_view
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET/POST /kb/articles/<id>/edit."""
    return _article_form_page(request, article_get_from(articles_for_agents(), pk))


@agent_view
@require_POST
def article_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /kb/articles/<id>/delete: its author or an administrator."""
    article = article_get_from(articles_for_agents(), pk)
    try:
        services.article_delete(actor=request.actor, article=article)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("kb:article", pk=pk)
    messages.success(request, f"Article “{article.title}” deleted.")
    return redirect("kb:home")


@agent_view
@require_POST
def category_new(request: HttpRequest) -> HttpResponse:
    """POST /kb/categories/new (administrators)."""
    form = CategoryForm(request.POST)
    if form.is_valid():
        try:
            services.category_create(
                actor=request.actor,  # type: ignore[attr-defined]
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                order=form.cleaned_data["order"] or 0,
            )
            messages.success(request, f"Category “{form.cleaned_data['name']}” added.")
        except ServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Give the category a name (at most 100 characters).")
    return redirect("kb:home")


@agent_view
@require_POST
def category_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /kb/categories/<id>/delete (administrators; an empty category only)."""
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise NotFound("There is no such category.")
    try:
        services.category_delete(actor=request.actor, category=category)  # type: ignore[attr-defined]
        messages.success(request, f"Category “{category.name}” deleted.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("kb:home")


@agent_view
@require_GET
def suggested(request: HttpRequest, number: str) -> HttpResponse:
    """GET (htmx) /kb/tickets/<number>/suggested: articles about the ticket's subject and observables;
    404 when the agent cannot see the ticket."""
    ticket = ticket_get_for_agent(request.agent, number)  # type: ignore[attr-defined]
    return render(
        request, "kb/_suggested.html", {"articles": articles_suggested_for(ticket), "ticket": ticket}
    )
