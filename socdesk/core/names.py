"""Machine names: the short, lower-case names that configuration objects are known by on the command line
and in the configuration file (a mailbox `soc-inbox`, a scheduled report `soc-weekly`)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Model, QuerySet

from socdesk.core.errors import ServiceError

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


def machine_name_clean(
    raw: str, *, taken: QuerySet[Any], instance: Model | None, what: str, example: str
) -> str:
    """`raw` stripped and lower-cased, or a ServiceError on the `name` field saying what to type instead.

    `taken` is the queryset of objects the name must not collide with (`Mailbox.objects`, say); `instance`
    is the object being edited, which may keep its own name. `what` names the kind in sentences
    ("Mailbox", "Schedule") and `example` is a usable name of that kind.
    """
    name = raw.strip().lower()
    if not NAME.match(name):
        raise ServiceError(
            f"{what} name {raw!r} is not usable: use 1 to 50 lower-case letters, digits, '-' or '_', "
            f"starting with a letter or digit (e.g. {example}).",
            fields={"name": "invalid"},
        )
    clash = taken.filter(name=name)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise ServiceError(f"A {what.lower()} named {name!r} already exists.", fields={"name": "invalid"})
    return name
