"""The group → department/role map that single sign-on (OpenID Connect and LDAP) applies: pure parsing.

A map is JSON: each directory group names one grant or a list of grants,

    {"soc-analysts": {"department": "soc", "role": "Analyst"},
     "soc-leads": [{"department": "soc", "role": "Lead"}, {"department": "it", "role": "Viewer"}]}

where `department` is a department's slug or name and `role` a role's name. Read at start-up by
settings.py (so a malformed map stops the server with a sentence naming the variable) and again by
socdesk.accounts.directory at each sign-in. Imports nothing of ours: settings.py may use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class GroupGrant:
    """One role in one department, given to members of a directory group."""

    department: str
    role: str


def parse_group_map(value: Any, name: str) -> dict[str, tuple[GroupGrant, ...]]:
    """Check a decoded map's shape and return it as {group: (grants, ...)}, in the map's order."""
    if not isinstance(value, dict):
        raise ImproperlyConfigured(
            f"{name} must be a JSON object of group name → grant, e.g. "
            '{"soc-analysts": {"department": "soc", "role": "Analyst"}}.'
        )
    parsed: dict[str, tuple[GroupGrant, ...]] = {}
    for group, grants in value.items():
        items = grants if isinstance(grants, list) else [grants]
        out = []
        for item in items:
            if isinstance(item, GroupGrant):
                out.append(item)
                continue
            ok = (
                isinstance(item, dict)
                and set(item) == {"department", "role"}
                and all(isinstance(item[key], str) and item[key].strip() for key in item)
            )
            if not ok:
                raise ImproperlyConfigured(
                    f"{name}: the entry for group {group!r} must be "
                    '{"department": "<slug or name>", "role": "<role name>"} or a list of them; '
                    f"got {json.dumps(item)[:200]}."
                )
            out.append(GroupGrant(department=item["department"].strip(), role=item["role"].strip()))
        parsed[str(group)] = tuple(out)
    return parsed


def load_group_map(raw: str, file_name: str, name: str) -> dict[str, tuple[GroupGrant, ...]]:
    """The map from the variable NAME (JSON text) or from the file NAME_FILE names; empty when neither."""
    if file_name:
        try:
            raw = Path(file_name).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}.") from None
        name = f"{name}_FILE ({file_name})"
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}.") from None
    return parse_group_map(value, name)
