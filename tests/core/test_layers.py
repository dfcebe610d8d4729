"""The layering of docs/architecture.md, checked: imports point down, no app imports another's views,
no two modules import each other.

Layers, bottom to top: core < audit < accounts < tickets < routing < notifications < alerts < kb < mail
< reports < api/portal.
Any other package under socdesk/ (demo, ops) is the top: it may use every app, and no app may use it.
The project modules (settings, urls, wsgi, asgi, cli) wire everything together and are above all.

Reads the source with `ast` (nothing is imported or run). Imports inside functions count; imports under
`if TYPE_CHECKING:` do not (they never run). Migrations are left out: Django writes their imports.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import socdesk

ROOT = Path(socdesk.__file__).resolve().parent
LAYERS = [
    "core",
    "audit",
    "accounts",
    "tickets",
    "routing",
    "notifications",
    "alerts",
    "kb",
    "mail",
    "reports",
    "api",
    "portal",
]
INTERFACES = {"api", "portal"}  # one level: each may import the other, and any app's views
RANK = {name: i for i, name in enumerate(LAYERS)}
TOP_PACKAGE_RANK = len(LAYERS)  # socdesk/demo, socdesk/ops, ...: whatever touches everything
PROJECT_RANK = len(LAYERS) + 1  # socdesk/settings.py, urls.py, wsgi.py, asgi.py, cli.py

# Two-file cycles tolerated for now. Each entry must still occur (the test fails otherwise), so the
# list can only shrink.
ALLOWED_CYCLES: set[tuple[str, str]] = set()

# Wrong-way imports being removed elsewhere, (importer, imported); same rule: each must still occur.
# Nothing may be added here. (`socdesk worker` now lives in socdesk/ops; `run` and `serve` stay in
# socdesk/core: they import nothing above it, only starting the commands that do.)
ALLOWED_WRONG_WAY: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    importer: str  # module name
    imported: str  # the module of ours it names (a submodule when `from pkg import submodule`)
    where: str  # path:line, for the failure message


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in ROOT.rglob("*.py")
        if not {"migrations", "tests"} & set(path.relative_to(ROOT).parts)
    }


def rank(module: str) -> int:
    """The layer of a module of ours; the package root (socdesk/__init__: the version) is the bottom."""
    parts = module.split(".")
    if len(parts) == 1:
        return -1
    if parts[1] in RANK:
        return RANK[parts[1]]
    if (ROOT / parts[1]).is_dir():
        return TOP_PACKAGE_RANK
    return PROJECT_RANK


def _typing_only(tree: ast.AST) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:` (not their else)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return skipped


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """Every import of one of our modules in a file, at any depth (lazy ones too), typing-only ones aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped = _typing_only(tree)
    is_package = path.name == "__init__.py"
    shown = path.relative_to(ROOT.parent) if path.is_relative_to(ROOT.parent) else path
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            # `from socdesk.tickets import services` names the module socdesk.tickets.services
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        where = f"{shown}:{getattr(node, 'lineno', 0)}"
        for target in dict.fromkeys(targets):
            if (target == "socdesk" or target.startswith("socdesk.")) and target != module:
                found.append(Import(module, target, where))
    return found


def import_graph() -> list[Import]:
    files = source_files()
    known = set(files)
    return [found for module, path in sorted(files.items()) for found in imports_of(module, path, known)]


def app_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def wrong_way(imports: list[Import]) -> dict[tuple[str, str], str]:
    """(importer, imported) -> where, for each import pointing up a layer."""
    found = {}
    for imp in imports:
        here, there = app_of(imp.importer), app_of(imp.imported)
        if here == there or rank(imp.importer) == PROJECT_RANK:
            continue
        if here in INTERFACES and there in INTERFACES:
            continue
        if rank(imp.imported) > rank(imp.importer):
            found.setdefault((imp.importer, imp.imported), imp.where)
    return found


def views_imports(imports: list[Import]) -> dict[tuple[str, str], str]:
    """Another app's views imported outside the interfaces and the URLconf (apps share services/selectors)."""
    found = {}
    for imp in imports:
        here, there = app_of(imp.importer), app_of(imp.imported)
        if here == there or here in INTERFACES or rank(imp.importer) == PROJECT_RANK:
            continue
        if imp.imported.split(".")[2:3] == ["views"]:
            found.setdefault((imp.importer, imp.imported), imp.where)
    return found


def two_file_cycles(imports: list[Import]) -> set[tuple[str, str]]:
    edges = defaultdict(set)
    for imp in imports:
        edges[imp.importer].add(imp.imported)
    return {tuple(sorted((a, b))) for a, targets in edges.items() for b in targets if a in edges.get(b, ())}


# --- the contract ----------------------------------------------------------------------------------


def test_imports_point_down():
    found = wrong_way(import_graph())
    unexpected = sorted(
        f"{a} imports {b} ({where}): {app_of(a)} is below {app_of(b)}"
        for (a, b), where in found.items()
        if (a, b) not in ALLOWED_WRONG_WAY
    )
    assert not unexpected, "imports pointing up the layers:\n" + "\n".join(unexpected)


def test_no_app_imports_another_apps_views():
    found = views_imports(import_graph())
    named = sorted(f"{a} imports {b} ({where})" for (a, b), where in found.items())
    assert not named, "use the other app's services or selectors instead:\n" + "\n".join(named)


def test_no_two_modules_import_each_other():
    unexpected = sorted(f"{a} <-> {b}" for a, b in two_file_cycles(import_graph()) - ALLOWED_CYCLES)
    assert not unexpected, "modules importing each other:\n" + "\n".join(unexpected)


def test_the_allow_lists_name_only_what_still_occurs():
    imports = import_graph()
    gone = sorted(f"cycle {a} <-> {b}" for a, b in ALLOWED_CYCLES - two_file_cycles(imports))
    gone += sorted(f"{a} imports {b}" for a, b in ALLOWED_WRONG_WAY - set(wrong_way(imports)))
    assert not gone, "fixed: remove from the allow-lists in tests/core/test_layers.py:\n" + "\n".join(gone)


# --- the checker itself ----------------------------------------------------------------------------


def _imports_in(tmp_path: Path, module: str, source: str) -> list[Import]:
    path = tmp_path / "m.py"
    path.write_text(source)
    known = {"socdesk.tickets.services", "socdesk.tickets.views", "socdesk.alerts.models"}
    return imports_of(module, path, known)


def test_checker_sees_lazy_imports_and_skips_typing_only_ones(tmp_path):
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from socdesk.alerts.models import Alert\n"
        "def f():\n    from socdesk.alerts import models\n"
    )
    found = _imports_in(tmp_path, "socdesk.tickets.x", source)
    assert [(i.imported, i.where.rsplit(":", 1)[1]) for i in found] == [("socdesk.alerts.models", "5")]
    assert set(wrong_way(found)) == {("socdesk.tickets.x", "socdesk.alerts.models")}


def test_checker_names_views_imports_and_top_packages(tmp_path):
    found = _imports_in(
        tmp_path, "socdesk.alerts.x", "from socdesk.tickets import views\nimport socdesk.demo\n"
    )
    assert set(views_imports(found)) == {("socdesk.alerts.x", "socdesk.tickets.views")}
    assert set(wrong_way(found)) == {("socdesk.alerts.x", "socdesk.demo")}
    # the interfaces may use views; the top packages may use anything
    assert not views_imports(_imports_in(tmp_path, "socdesk.api.x", "from socdesk.tickets import views\n"))
    assert not wrong_way(_imports_in(tmp_path, "socdesk.demo.x", "import socdesk.api.osticket\n"))


def test_checker_resolves_relative_imports(tmp_path):
    found = _imports_in(tmp_path, "socdesk.core.x", "from ..tickets import services\n")
    assert set(wrong_way(found)) == {("socdesk.core.x", "socdesk.tickets.services")}
