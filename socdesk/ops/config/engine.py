"""Export the configuration as one YAML document; check a document whole, then apply it in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from django.db import DatabaseError, transaction

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
# objects that are not in this file are left as they are (unless --prune). Format:
# docs/configuration-as-code.md.
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
    outcome: str  # "created" | "updated" | "unchanged"; with --prune also "deleted" | "disabled"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Section:
    kind: Kind
    given: bool  # the file has this section (--prune looks only at those)
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
    elif type(data["version"]) is not int or data["version"] != FORMAT_VERSION:
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
                check.fail(
                    (kind.key, index, kind.identity_key),
                    f"{identity!r} is already in this list (line {first}).",
                )
                continue
            seen[identity.casefold()] = index
            entries.append((index, entry))
        for position, key, message in (kind.check_all or (lambda _entries: []))([e for _i, e in entries]):
            check.fail((kind.key, entries[position][0], key), message)
        # A refused entry's name counts as given: what names it is not reported as naming nothing.
        names_in_file[kind.key] = {kind.identity(entry) for _index, entry in entries} | refused
        sections.append(_Section(kind, kind.key in data, entries))
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


def config_apply(*, actor: Actor, text: str, dry_run: bool = False, prune: bool = False) -> list[Change]:
    """Check the whole file, then write every object that differs through its service, in one transaction.

    Raises ConfigInvalid (nothing written) with every problem found: first those of the file itself
    (syntax, keys, types, duplicates, names that name nothing); then, if there were none, the refusals of
    the services, each rolled back while the others are still tried, so one run names them all. A dry run
    does the same writes and rolls them back, so it reports what apply would do, refusals included.
    With `prune`, the objects of the file's sections that the file does not name are removed afterwards
    (kinds that can be removed only; filters first, so what they name is free to go).
    """
    document = load_document(text)
    sections = _check(document)
    run = _Run(Writer(actor, REFERABLES), document)
    with transaction.atomic():
        for section in sections:
            run.apply_section(section)
        if prune:
            for section in reversed(sections):
                if section.given and section.kind.remove is not None:
                    run.prune_section(section)
        if run.problems:
            raise ConfigInvalid(run.problems)
        if dry_run:
            transaction.set_rollback(True)
    return run.changes


class _Run:
    """One apply: the changes made so far and the refusals met (inside the caller's transaction)."""

    def __init__(self, writer: Writer, document: Document):
        self.writer, self.document = writer, document
        self.changes: list[Change] = []
        self.problems: list[Problem] = []

    def apply_section(self, section: _Section) -> None:
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
                self.changes.append(Change(kind.key, name, "unchanged"))
                continue
            done, _written = self._attempt((kind.key, index), entry, "", kind.write, self.writer, entry, obj)
            if done:
                if stored is None:
                    self.changes.append(Change(kind.key, name, "created"))
                else:
                    changed = tuple(key for key in entry if entry[key] != stored[key])
                    self.changes.append(Change(kind.key, name, "updated", changed))

    def prune_section(self, section: _Section) -> None:
        kind, remove = section.kind, section.kind.remove
        assert remove is not None
        named = {kind.identity(entry) for _index, entry in section.entries}
        # Last first: sub-topics go before their parent.
        for obj, entry in reversed(kind.read()):
            name = kind.identity(entry)
            if name in named:
                continue
            done, outcome = self._attempt((kind.key,), {}, name, remove, self.writer, obj)
            if done:
                self.changes.append(Change(kind.key, name, outcome))

    def _attempt(
        self, path: Path, entry: Entry, removing: str, write: Callable[..., Any], *args: Any
    ) -> tuple[bool, Any]:
        """Run one object's writes in a savepoint: (True, what `write` returned), or (False, None) after
        noting the refusal (rolled back; the run goes on, so that it names every refusal)."""
        prefix = f"{removing!r} could not be removed: " if removing else ""
        try:
            with transaction.atomic():
                return True, write(*args)
        except ServiceError as error:
            where = _refusal_path(path, entry, error)
            self.problems.append(self.document.problem(where, prefix + error.message))
        except Unresolved as error:
            self.problems.append(self.document.problem(path, f"not applied: {error}"))
        except DatabaseError as error:
            # A value past what a column holds (a number too large for it, say): refused like the rest.
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            self.problems.append(self.document.problem(path, f"{prefix}the database refused it: {reason}."))
        return False, None
