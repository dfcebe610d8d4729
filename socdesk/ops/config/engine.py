"""Export the configuration as one YAML document; check a document whole, then apply it in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from django.db import transaction

from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.ops.config.document import ConfigInvalid, Document, Path, Problem, load_document
from socdesk.ops.config.kinds import KINDS, REFERABLES
from socdesk.ops.config.kinds.base import Entry, Kind, Unresolved, Writer
from socdesk.ops.config.schema import MISSING, Check

FORMAT_VERSION = 1

HEADER = """\
# SOCdesk configuration (`socdesk config export`). Apply it with `socdesk config apply FILE`; add
# --dry-run to see what would change first. Objects are matched by name (help topics by their path);
# objects that are not in this file are left as they are. Format: docs/configuration-as-code.md.
"""


# --- export --------------------------------------------------------------------------------------------


def _dump(data: Any) -> str:
    # Wide lines: a long regex or description stays on one line, so a diff shows what changed.
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10_000)


def config_export() -> str:
    """The whole configuration as one YAML document, in a stable order (the same data gives the same text)."""
    parts = [HEADER, _dump({"version": FORMAT_VERSION})]
    for kind in KINDS:
        parts.append("\n")
        parts.extend(f"# {line}\n" for line in kind.comment.splitlines())
        parts.append(_dump({kind.key: [entry for _obj, entry in kind.read()]}))
    return "".join(parts)


# --- apply ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What apply did (or, in a dry run, would do) to one object of the file."""

    kind: str
    name: str
    outcome: str  # "created" | "updated" | "unchanged"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Section:
    kind: Kind
    entries: list[tuple[int, Entry]]  # (position in the file, canonical entry)


def _check(document: Document) -> list[_Section]:
    """Every section's canonical entries, or ConfigInvalid with every problem of the file."""
    data = document.data
    if not isinstance(data, dict):
        raise ConfigInvalid(
            [document.problem((), "the file must be a mapping that starts with `version: 1`.")]
        )
    check = Check()
    known = {kind.key: kind for kind in KINDS}
    if "version" not in data:
        check.fail(("version",), f"the file needs `version: {FORMAT_VERSION}` at the top.")
    elif data["version"] != FORMAT_VERSION:
        check.fail(
            ("version",), f"this SOCdesk reads version {FORMAT_VERSION} files, not {data['version']!r}."
        )
    for key in data:
        if key != "version" and key not in known:
            check.fail((str(key),), f"unknown section {key!r}; the sections are {', '.join(known)}.")
    sections: list[_Section] = []
    names_in_file: dict[str, set[str]] = {}
    for kind in KINDS:
        items = data.get(kind.key) or []
        if not isinstance(items, list):
            check.fail((kind.key,), f"must be a list of {kind.label}s (lines starting with `- `).")
            continue
        entries: list[tuple[int, Entry]] = []
        seen: dict[str, int] = {}
        refused: set[str] = set()
        for index, item in enumerate(items):
            entry = kind.schema.check(item, (kind.key, index), check)
            if entry is MISSING:
                refused.update(_identity_of_refused(kind, item))
                continue
            identity = kind.identity(entry)
            # Names are unique regardless of case in the database, so in the file too.
            if identity.casefold() in seen:
                first = document.line((kind.key, seen[identity.casefold()]))
                check.fail((kind.key, index, "name"), f"{identity!r} is already in this list (line {first}).")
                continue
            seen[identity.casefold()] = index
            entries.append((index, entry))
        for position, key, message in (kind.check_all or (lambda _entries: []))([e for _i, e in entries]):
            check.fail((kind.key, entries[position][0], key), message)
        # A refused entry's name counts as given: what names it is not reported as naming nothing.
        names_in_file[kind.key] = {kind.identity(entry) for _index, entry in entries} | refused
        sections.append(_Section(kind, entries))
    for reference in check.references:
        if reference.name in names_in_file.get(reference.kind, ()):
            continue
        referable = REFERABLES[reference.kind]
        if referable.find(reference.name) is None:
            where = "in the file or " if reference.kind in names_in_file else ""
            check.fail(reference.path, f"{referable.missing(reference.name)} {where}in this installation.")
    if check.problems:
        raise ConfigInvalid([document.problem(path, message) for path, message in check.problems])
    return sections


def _identity_of_refused(kind: Kind, item: Any) -> list[str]:
    if not isinstance(item, dict):
        return []
    defaults = {
        key: field.default for key, field in kind.schema.fields.items() if field.default is not MISSING
    }
    try:
        return [kind.identity({**defaults, **item})]
    except (KeyError, TypeError):
        return []


def _refusal_path(path: Path, entry: Entry, error: ServiceError) -> Path:
    """The key a service's refusal is about, when it names one the entry has."""
    keys = [key for key in error.fields if key in entry]
    return (*path, keys[0]) if len(keys) == 1 else path


def config_apply(*, actor: Actor, text: str, dry_run: bool = False) -> list[Change]:
    """Check the whole file, then write every object that differs through its service, in one transaction.

    Raises ConfigInvalid (nothing written) with every problem found: first those of the file itself
    (syntax, keys, types, duplicates, names that name nothing); then, if there were none, the refusals of
    the services, each rolled back while the others are still tried, so one run names them all. A dry run
    does the same writes and rolls them back, so it reports what apply would do, refusals included.
    """
    document = load_document(text)
    sections = _check(document)
    writer = Writer(actor, REFERABLES)
    changes: list[Change] = []
    problems: list[Problem] = []
    with transaction.atomic():
        for section in sections:
            kind = section.kind
            current = {kind.identity(entry): (obj, entry) for obj, entry in kind.read()}
            entries = section.entries
            if kind.apply_order is not None:
                order = kind.apply_order
                entries = sorted(entries, key=lambda item: order(item[1]))
            for index, entry in entries:
                name = kind.identity(entry)
                obj, stored = current.get(name, (None, None))
                if stored == entry:
                    changes.append(Change(kind.key, name, "unchanged"))
                    continue
                try:
                    with transaction.atomic():
                        kind.write(writer, entry, obj)
                except ServiceError as error:
                    path = _refusal_path((kind.key, index), entry, error)
                    problems.append(document.problem(path, error.message))
                    continue
                except Unresolved as error:
                    problems.append(document.problem((kind.key, index), f"not applied: {error}"))
                    continue
                if stored is None:
                    changes.append(Change(kind.key, name, "created"))
                else:
                    changed = tuple(key for key in entry if entry[key] != stored[key])
                    changes.append(Change(kind.key, name, "updated", changed))
        if problems:
            raise ConfigInvalid(problems)
        if dry_run:
            transaction.set_rollback(True)
    return changes
