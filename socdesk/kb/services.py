"""Writes of the knowledge base: categories (administrators) and articles (any agent); each audited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.core.text import clean_text
from socdesk.kb.choices import Visibility
from socdesk.kb.models import Article, Category

TITLE_MAX = 200
BODY_MAX = 200_000


def _require_admin(actor: Actor, what: str) -> None:
    if actor.kind == "agent" and (actor.agent is None or not actor.agent.is_admin):
        raise PermissionDenied(f"Only administrators {what}.")


def _require_agent(actor: Actor) -> None:
    if actor.kind in ("user",):
        raise PermissionDenied("Only agents write knowledge base articles.")


def _category_fields(name: str, description: str, pk: int | None) -> tuple[str, str]:
    name = " ".join(clean_text(name).split())
    description = " ".join(clean_text(description).split())
    if not name:
        raise ServiceError("Give the category a name.", fields={"name": "required"})
    if len(name) > 100:
        raise ServiceError("A category's name has at most 100 characters.", fields={"name": "too_long"})
    if len(description) > 300:
        raise ServiceError("The description has at most 300 characters.", fields={"description": "too_long"})
    others = Category.objects.filter(name__iexact=name)
    taken = (others.exclude(pk=pk) if pk is not None else others).first()
    if taken is not None:
        raise ServiceError(f"There is already a category {taken.name!r}.", fields={"name": "taken"})
    return name, description


@transaction.atomic
def category_create(*, actor: Actor, name: str, description: str = "", order: int = 0) -> Category:
    """Add a category of articles (administrators)."""
    _require_admin(actor, "manage knowledge base categories")
    name, description = _category_fields(name, description, None)
    category = Category.objects.create(name=name, description=description, order=max(0, order))
    record(
        actor=actor,
        action="kb_category.created",
        target=category,
        after={"name": name, "description": description, "order": category.order},
    )
    return category


@transaction.atomic
def category_update(
    *, actor: Actor, category: Category, name: str, description: str = "", order: int = 0
) -> Category:
    """Rename, describe or move a category (administrators)."""
    _require_admin(actor, "manage knowledge base categories")
    name, description = _category_fields(name, description, category.pk)
    before = {"name": category.name, "description": category.description, "order": category.order}
    category.name, category.description, category.order = name, description, max(0, order)
    category.save()
    after = {"name": name, "description": description, "order": category.order}
    record(actor=actor, action="kb_category.updated", target=category, before=before, after=after)
    return category


@transaction.atomic
def category_delete(*, actor: Actor, category: Category) -> None:
    """Remove an empty category (administrators); one holding articles is refused, saying how many."""
    _require_admin(actor, "manage knowledge base categories")
    count = category.articles.count()
    if count:
        raise ServiceError(
            f"The category {category.name!r} holds {count} article{'s' if count != 1 else ''}; "
            "move or delete them first.",
            fields={"category": "not_empty"},
        )
    record(actor=actor, action="kb_category.deleted", target=category, before={"name": category.name})
    category.delete()


def _article_fields(title: str, body: str, visibility: str) -> tuple[str, str]:
    title = " ".join(clean_text(title).split())
    body = clean_text(body)
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Give the article a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"The title has at most {TITLE_MAX} characters."
    if not body.strip():
        errors["body"] = "The article is empty; write its body (Markdown)."
    elif len(body) > BODY_MAX:
        errors["body"] = f"The body has at most {BODY_MAX:,} characters."
    if visibility not in Visibility.values:
        errors["visibility"] = f"Visibility is {' or '.join(Visibility.values)}, not {visibility!r}."
    if errors:
        raise ServiceError(" ".join(errors.values()), fields=errors)
    return title, body


def _state(article: Article) -> dict[str, str | None]:
    return {
        "title": article.title,
        "body": article.body,
        "visibility": article.visibility,
        "category": article.category.name if article.category is not None else None,
    }


@transaction.atomic
def article_create(
    *,
    actor: Actor,
    title: str,
    body: str,
    visibility: str = Visibility.INTERNAL,
    category: Category | None = None,
) -> Article:
    """Write an article (any agent); internal unless made public."""
    _require_agent(actor)
    title, body = _article_fields(title, body, visibility)
    now = timezone.now()
    article = Article.objects.create(
        title=title,
        body=body,
        visibility=visibility,
        category=category,
        author=actor.agent,
        created_at=now,
        updated_at=now,
    )
    record(actor=actor, action="kb_article.created", target=article, after=_state(article))
    return article


@transaction.atomic
def article_update(
    *,
    actor: Actor,
    article: Article,
    title: str,
    body: str,
    visibility: str,
    category: Category | None,
) -> Article:
    """Change an article (any agent): its texts, its category, whether requesters may read it."""
    _require_agent(actor)
    title, body = _article_fields(title, body, visibility)
    article = Article.objects.select_for_update().get(pk=article.pk)
    before = _state(article)
    article.title, article.body, article.visibility, article.category = title, body, visibility, category
    article.updated_at = timezone.now()
    article.save()
    record(actor=actor, action="kb_article.updated", target=article, before=before, after=_state(article))
    return article


@transaction.atomic
def article_delete(*, actor: Actor, article: Article) -> None:
    """Remove an article: its author or an administrator."""
    _require_agent(actor)
    agent = actor.agent
    if agent is not None and not agent.is_admin and article.author_id != agent.pk:
        raise PermissionDenied("Only the article's author or an administrator may delete it.")
    record(actor=actor, action="kb_article.deleted", target=article, before=_state(article))
    article.delete()
