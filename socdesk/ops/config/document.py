"""A configuration file read with the line of every key and item, and the problems found in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

# Values a file may hold once its aliases are expanded: far more than any installation's configuration,
# far less than a "billion laughs" file (nested aliases that expand exponentially) would make us visit.
MAX_VALUES = 200_000

# A place in the document: keys and list positions from the top, e.g. ("filters", 3, "actions", 0, "value").
Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """`filters[3].actions[0].value` (positions counted from 0, as in the file's lists)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, where it is and what to do about it."""

    line: int | None
    path: Path
    message: str

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line else []
        if self.path:
            where.append(format_path(self.path))
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConfigInvalid(Exception):
    """The file cannot be applied; nothing was written. Holds every problem found, in file order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.line or 0, format_path(p.path)))
        super().__init__("\n".join(str(p) for p in self.problems))


class Document:
    """The parsed file: its data and the line (1-based) where each path starts."""

    def __init__(self, data: Any, lines: dict[Path, int]):
        self.data = data
        self._lines = lines

    def line(self, path: Path) -> int | None:
        """The line of a path, or of its nearest ancestor in the file (for a key that is missing)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None

    def problem(self, path: Path, message: str) -> Problem:
        return Problem(self.line(path), path, message)


def load_document(text: str) -> Document:
    """Parse YAML text, refusing syntax errors and keys given twice (YAML would silently keep the last)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigInvalid([Problem(1, (), "the file is empty; start it with `version: 1`.")])
        lines: dict[Path, int] = {}
        duplicates: list[Problem] = []
        _walk(node, (), lines, duplicates, [MAX_VALUES])
        if duplicates:
            raise ConfigInvalid(duplicates)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        raise ConfigInvalid([_syntax_problem(error)]) from None
    except yaml.YAMLError as error:
        raise ConfigInvalid([Problem(None, (), f"this is not valid YAML: {error}.")]) from None
    finally:
        loader.dispose()
    return Document(data, lines)


def _syntax_problem(error: yaml.MarkedYAMLError) -> Problem:
    """PyYAML's complaint as a sentence: where it gave up, and where the construct it was reading began."""
    mark, context = error.problem_mark, error.context_mark
    line = mark.line + 1 if mark is not None else None
    message = "this is not valid YAML"
    if mark is not None:
        message += f" (column {mark.column + 1})"
    message += f": {error.problem or 'cannot read it'}"
    if error.context and context is not None:
        message += f" ({error.context}, which starts on line {context.line + 1}, column {context.column + 1})"
    return Problem(line, (), message + ".")


def _walk(
    node: yaml.Node, path: Path, lines: dict[Path, int], duplicates: list[Problem], budget: list[int]
) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ConfigInvalid(
            [
                Problem(
                    node.start_mark.line + 1,
                    (),
                    f"the file holds more than {MAX_VALUES:,} values once its "
                    "aliases (*name) are expanded; write the configuration out instead.",
                )
            ]
        )
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                duplicates.append(
                    Problem(
                        line, (*path, key), f"the key {key!r} is given twice (first on line {seen[key]})."
                    )
                )
                continue
            seen[key] = line
            _walk(value_node, (*path, key), lines, duplicates, budget)
            lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, duplicates, budget)
