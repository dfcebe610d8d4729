"""Canned responses and the knowledge base's categories as configuration (socdesk config export/apply).

A canned response is named `Title` when it is for every department and `Department/Title` when it is one
department's (titles are unique per department); a ticket filter's `reply_canned` action names it the
same way. Its files are not in the file (they are content, not settings): apply keeps the files a stored
response has. Knowledge base articles are content too (written and searched in the console, carried by
backups): only their categories are configuration.
"""

from __future__ import annotations

from typing import Any

from socdesk.accounts.models import Department
from socdesk.kb.models import Category
from socdesk.kb.services import category_create, category_delete, category_update
from socdesk.mail.canned import canned_response_create, canned_response_delete, canned_response_update
from socdesk.mail.models import CannedResponse
from socdesk.ops.config.kinds.base import Entry, Kind, Writer, by_name, deleted
from socdesk.ops.config.schema import Field, Integer, Nullable, Record, Ref, Text


def canned_name(canned: CannedResponse) -> str:
    """How the file names a canned response: `Title`, or `Department/Title` for a department's."""
    return f"{canned.department.name}/{canned.title}" if canned.department is not None else canned.title


def canned_find(name: str) -> CannedResponse | None:
    """The canned response a file's name means (a department's when the part before `/` is one)."""
    department_name, slash, title = name.partition("/")
    if slash:
        department = Department.objects.filter(name=department_name).first()
        if department is not None:
            return CannedResponse.objects.filter(department=department, title=title).first()
    return CannedResponse.objects.filter(department__isnull=True, title=name).first()


def _canned_entry(canned: CannedResponse) -> Entry:
    return {
        "title": canned.title,
        "department": canned.department.name if canned.department is not None else None,
        "body": canned.body,
    }


def _canned_identity(entry: Entry) -> str:
    return f"{entry['department']}/{entry['title']}" if entry.get("department") else str(entry["title"])


def _canned_write(writer: Writer, entry: Entry, existing: CannedResponse | None) -> CannedResponse:
    fields: dict[str, Any] = {
        "title": entry["title"],
        "body": entry["body"],
        "department": writer.resolve("departments", entry["department"]),
    }
    if existing is None:
        return canned_response_create(actor=writer.actor, **fields)
    return canned_response_update(actor=writer.actor, canned=existing, **fields)


def _canned_remove(writer: Writer, canned: Any) -> str:
    return deleted(canned_response_delete(actor=writer.actor, canned=canned))


CANNED_RESPONSES = Kind(
    key="canned_responses",
    label="canned response",
    schema=Record(
        {
            "title": Field(Text(required=True, max_length=200)),
            "department": Field(Nullable(Ref("departments")), None),
            # Stripped as the service stores it, so a YAML block's last line break is no change.
            "body": Field(Text(required=True)),
        }
    ),
    read=lambda: sorted(
        (
            (c, _canned_entry(c))
            for c in CannedResponse.objects.select_related("department").order_by("title", "pk")
        ),
        key=lambda row: _canned_identity(row[1]),
    ),
    find=canned_find,
    write=_canned_write,
    comment="department: offered on that department's tickets only (null: on every ticket); a filter's\n"
    "reply_canned names a department's response `Department/Title`. Files stay in the admin area.",
    identity=_canned_identity,
    identity_key="title",
    remove=_canned_remove,
)


def _category_entry(category: Category) -> Entry:
    return {"name": category.name, "description": category.description, "order": category.order}


def _category_write(writer: Writer, entry: Entry, existing: Category | None) -> Category:
    fields = {"name": entry["name"], "description": entry["description"], "order": entry["order"]}
    if existing is None:
        return category_create(actor=writer.actor, **fields)
    return category_update(actor=writer.actor, category=existing, **fields)


def _category_remove(writer: Writer, category: Any) -> str:
    return deleted(category_delete(actor=writer.actor, category=category))


KB_CATEGORIES = Kind(
    key="kb_categories",
    label="knowledge base category",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "description": Field(Text(max_length=300), ""),
            "order": Field(Integer(minimum=0), 0),
        }
    ),
    read=lambda: by_name(
        [
            (c, {"name": c.name, "description": c.description, "order": c.order})
            for c in Category.objects.all()
        ]
    ),
    find=lambda name: Category.objects.filter(name=name).first(),
    write=_category_write,
    comment="Categories of the knowledge base; its articles are content (the console, backups), not here.\n"
    "--prune refuses to remove a category that still holds articles (the message says how many).",
    remove=_category_remove,
)
