"""The knowledge base over REST: articles searched, read and written, categories listed. Agents and keys
with `tickets:read` read every article; writing needs `tickets:write` (any agent may write, as in the
console). Requesters never use this API: the portal reads public articles through `articles_public`."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema, Status
from pydantic import Field

from socdesk.api.v1.schemas import DbId, ErrorOut, InputSchema, QueryParams
from socdesk.api.v1.security import requires
from socdesk.core.errors import NotFound, ServiceError
from socdesk.kb import services
from socdesk.kb.choices import Visibility
from socdesk.kb.markdown import markdown_html
from socdesk.kb.models import Article, Category
from socdesk.kb.selectors import article_get_from, article_search, articles_for_agents, categories_with_counts

router = Router(tags=["knowledge base"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


class CategoryOut(Schema):
    id: int
    name: str
    description: str
    order: int
    article_count: int


class CategoryList(Schema):
    items: list[CategoryOut]


class CategoryRef(Schema):
    id: int
    name: str


class ArticleOut(Schema):
    id: int
    title: str
    body: str = Field(description="Markdown, as written.")
    html: str = Field(description="The Markdown rendered and sanitised (nh3), as the console shows it.")
    visibility: str = Field(description="internal (agents only) or public (requesters too).")
    category: CategoryRef | None
    author: str | None = Field(description="The author's user name (None once they are removed).")
    created_at: datetime
    updated_at: datetime


class ArticleList(Schema):
    items: list[ArticleOut]
    errors: list[str] = Field(description="What of the search could not be used, as sentences.")


class ArticleIn(InputSchema):
    title: str = Field(max_length=400)
    body: str = Field(max_length=200_000)
    visibility: str = Field(default=Visibility.INTERNAL.value, description="internal or public.")
    category_id: DbId | None = None


class ArticleFilters(QueryParams):
    q: str = Field(default="", max_length=500, description='Words, "phrases" and -words, best match first.')
    category_id: DbId | None = None
    visibility: str = Field(default="", description="internal or public; empty: both.")


def _out(article: Article) -> dict:
    category = article.category
    author = article.author
    return {
        "id": article.pk,
        "title": article.title,
        "body": article.body,
        "html": str(markdown_html(article.body)),
        "visibility": article.visibility,
        "category": category and {"id": category.pk, "name": category.name},
        "author": author.user.get_username() if author is not None else None,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }


def _category(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise NotFound(f"There is no category {category_id}.", fields={"category_id": "not_found"})
    return category


@router.get(
    "/kb/categories",
    response={200: CategoryList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="kb_category_list",
    summary="List the knowledge base's categories",
)
def kb_category_list(request):
    return {"items": list(categories_with_counts())}


@router.get(
    "/kb/articles",
    response={200: ArticleList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="kb_article_list",
    summary="List or search articles",
)
def kb_article_list(request, filters: Query[ArticleFilters]):
    """Every article by title, or with `q` the matches best first (at most 500)."""
    qs = articles_for_agents()
    if filters.category_id is not None:
        qs = qs.filter(category_id=filters.category_id)
    if filters.visibility:
        if filters.visibility not in Visibility.values:
            raise ServiceError("visibility is internal or public.", fields={"visibility": "invalid"})
        qs = qs.filter(visibility=filters.visibility)
    if filters.q.strip():
        found, errors = article_search(qs, filters.q)
        return {"items": [_out(a) for a in found], "errors": errors}
    return {"items": [_out(a) for a in qs[:500]], "errors": []}


@router.get(
    "/kb/articles/{article_id}",
    response={200: ArticleOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="kb_article_get",
    summary="Read one article",
)
def kb_article_get(request, article_id: DbId):
    return _out(article_get_from(articles_for_agents(), article_id))


@router.post(
    "/kb/articles",
    response={201: ArticleOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="kb_article_create",
    summary="Write an article",
)
def kb_article_create(request, payload: ArticleIn):
    article = services.article_create(
        actor=request.auth.actor,
        title=payload.title,
        body=payload.body,
        visibility=payload.visibility,
        category=_category(payload.category_id),
    )
    return Status(201, _out(article_get_from(articles_for_agents(), article.pk)))


@router.put(
    "/kb/articles/{article_id}",
    response={200: ArticleOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="kb_article_update",
    summary="Change an article",
)
def kb_article_update(request, article_id: DbId, payload: ArticleIn):
    article = article_get_from(articles_for_agents(), article_id)
    services.article_update(
        actor=request.auth.actor,
        article=article,
        title=payload.title,
        body=payload.body,
        visibility=payload.visibility,
        category=_category(payload.category_id),
    )
    return _out(article_get_from(articles_for_agents(), article_id))


@router.delete(
    "/kb/articles/{article_id}",
    response={204: None} | ERRORS,
    auth=requires("tickets:write"),
    url_name="kb_article_delete",
    summary="Delete an article (its author or an administrator)",
)
def kb_article_delete(request, article_id: DbId):
    article = article_get_from(articles_for_agents(), article_id)
    services.article_delete(actor=request.auth.actor, article=article)
    return Status(204, None)
