"""setuptools' ``setup.cfg`` and ``setup.py``, read statically.

``setup.cfg`` goes through configparser (what setuptools itself uses): ``[options]
install_requires`` (main) and ``[options.extras_require]`` (``optional:<extra>``).

``setup.py`` is **never executed**: running a project's code to learn its dependencies
would run whatever it contains. It is parsed with :mod:`ast` and only literal values are
read: ``setup(install_requires=[...], extras_require={...})`` (also ``setuptools.setup``),
where a value may also be a module-level name assigned a literal list or dict, and a list
may star-unpack such a name. Anything computed (comprehensions, function calls,
``open(...)``) is left out and reported as one problem of the file, so the scan is
partial rather than silently incomplete. No library does this: the ones that read
setup.py (``distutils.core.run_setup``, pip, build) all run it.
"""

from __future__ import annotations

import ast
import configparser

from packaging.markers import InvalidMarker, Marker

from autodocs.errors import ManifestError
from autodocs.manifests.base import LineFinder, ParsedFile, dependency_from_requirement, entry_error

__all__ = ["parse_setup_cfg", "parse_setup_py"]


def parse_setup_cfg(text: str, *, file: str) -> ParsedFile:
    """install_requires and extras_require of a ``setup.cfg``; raises ManifestError if unreadable."""
    config = configparser.ConfigParser(interpolation=None, strict=False, default_section="\x00no-defaults")
    try:
        config.read_string(text, source=file)
    except configparser.Error as exc:
        raise ManifestError(
            f"{file}: invalid INI syntax: {str(exc).splitlines()[0][:300]}",
            suggestions=["Fix the setup.cfg syntax at the line named."],
            file=file,
            line=getattr(exc, "lineno", None),
        ) from None
    lines = LineFinder(text)
    parsed = ParsedFile()
    if config.has_option("options", "install_requires"):
        lines.find("install_requires", key=True)
        parsed.extend(_cfg_list(config.get("options", "install_requires"), "main", file, lines))
    if config.has_section("options.extras_require"):
        for extra, value in config.items("options.extras_require"):
            lines.find(extra, key=True)
            parsed.extend(_with_key_marker(extra, _cfg_list(value, _extra_group(extra), file, lines), file))
    return parsed


def _cfg_list(value: str, group: str, file: str, lines: LineFinder) -> ParsedFile:
    parsed = ParsedFile()
    if value.strip().startswith(("file:", "attr:")):
        return parsed  # a referenced requirements file is scanned on its own
    for item in value.replace("\r", "").splitlines() if "\n" in value else value.split(","):
        text = item.split(" #")[0].strip()
        if not text or text.startswith("#"):
            continue
        try:
            line = lines.find(text, quoted=False)
            parsed.dependencies.append(dependency_from_requirement(text, group=group, file=file, line=line))
        except ManifestError as exc:
            parsed.problems.append(exc)
    return parsed


def parse_setup_py(text: str, *, file: str) -> ParsedFile:
    """Literal install_requires/extras_require of every ``setup(...)`` call; never runs the file.

    What cannot be read without running code (a function call, a comprehension, a name
    not bound to a literal) is left out, the rest is kept, and one problem names the
    arguments left out, so the scan is reported partial.
    """
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as exc:
        raise ManifestError(
            f"{file}: not valid Python (line {exc.lineno}: {exc.msg})", file=file, line=exc.lineno
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ManifestError(f"{file}: not valid Python ({type(exc).__name__})", file=file) from None
    reader = _LiteralReader(_module_literals(tree), file)
    parsed = ParsedFile()
    for call in _setup_calls(tree):
        for keyword in call.keywords:
            if keyword.arg == "install_requires":
                parsed.extend(reader.requirements(keyword.value, "main", keyword.arg))
            elif keyword.arg == "extras_require":
                parsed.extend(reader.extras(keyword.value))
            elif keyword.arg == "tests_require":
                reader.check(keyword.value, keyword.arg)  # not a dependency group; only checked
    if reader.unreadable:
        arguments = ", ".join(dict.fromkeys(argument for argument, _ in reader.unreadable))
        parsed.problems.append(
            entry_error(
                file,
                reader.unreadable[0][1],
                f"setup() argument(s) {arguments} are computed by code (a function call, comprehension or "
                "file read) and cannot be read without running setup.py; only their literal parts were read",
                "Declare the dependencies in pyproject.toml [project] or setup.cfg, or as literal lists in setup.py.",
            )
        )
    return parsed


class _LiteralReader:
    """Reads requirement lists and extras dicts from literals, following module-level names.

    A list may star-unpack a name bound to a literal list (``[*tests_require, "x"]``).
    Every part it cannot read is recorded in :attr:`unreadable` as (argument, line).
    """

    def __init__(self, names: dict[str, ast.expr], file: str) -> None:
        self._names = names
        self._file = file
        self.unreadable: list[tuple[str, int]] = []

    def requirements(self, node: ast.expr, group: str, argument: str) -> ParsedFile:
        parsed = ParsedFile()
        for value, line in self._strings(node, argument, frozenset()):
            for text in value.splitlines():
                text = text.split(" #")[0].strip()
                if not text or text.startswith("#"):
                    continue
                try:
                    parsed.dependencies.append(
                        dependency_from_requirement(text, group=group, file=self._file, line=line)
                    )
                except ManifestError as exc:
                    parsed.problems.append(exc)
        return parsed

    def check(self, node: ast.expr, argument: str) -> None:
        """Record whether ``node`` is readable without keeping what it names."""
        self._strings(node, argument, frozenset())

    def _strings(self, node: ast.expr, argument: str, seen: frozenset[str]) -> list[tuple[str, int]]:
        """(string, line) of each literal requirement; what is not a literal is recorded unreadable."""
        if isinstance(node, ast.Name):
            if node.id in seen or node.id not in self._names:
                self.unreadable.append((argument, node.lineno))
                return []
            return self._strings(self._names[node.id], argument, seen | {node.id})
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [(node.value, node.lineno)]
        if not isinstance(node, ast.List | ast.Tuple):
            self.unreadable.append((argument, node.lineno))
            return []
        found: list[tuple[str, int]] = []
        for item in node.elts:
            if isinstance(item, ast.Starred):
                found.extend(self._strings(item.value, argument, seen))
            elif isinstance(item, ast.Constant) and isinstance(item.value, str):
                found.append((item.value, item.lineno))
            else:
                self.unreadable.append((argument, item.lineno))
        return found

    def extras(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> ParsedFile:
        parsed = ParsedFile()
        if isinstance(node, ast.Name) and node.id in self._names and node.id not in seen:
            return self.extras(self._names[node.id], seen | {node.id})
        if not isinstance(node, ast.Dict):
            self.unreadable.append(("extras_require", node.lineno))
            return parsed
        for key, requirements in zip(node.keys, node.values, strict=True):
            if key is None:  # {**other_extras}
                parsed.extend(self.extras(requirements, seen))
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                found = self.requirements(requirements, _extra_group(key.value), "extras_require")
                parsed.extend(_with_key_marker(key.value, found, self._file))
            else:
                self.unreadable.append(("extras_require", key.lineno))
        return parsed


def _extra_group(key: str) -> str:
    """``"socks"`` → optional:socks; setuptools' ``":marker"`` key is the main group under a marker."""
    extra = key.split(":", 1)[0].strip()
    return f"optional:{extra}" if extra else "main"


def _with_key_marker(key: str, parsed: ParsedFile, file: str) -> ParsedFile:
    """Apply the marker of an ``"extra:marker"`` key to each of its requirements."""
    if ":" not in key:
        return parsed
    key_marker = key.split(":", 1)[1].strip()
    kept = ParsedFile(problems=parsed.problems)
    for dependency in parsed.dependencies:
        combined = f"({dependency.marker}) and ({key_marker})" if dependency.marker else key_marker
        try:
            dependency.marker = str(Marker(combined))
        except InvalidMarker:
            kept.problems.append(entry_error(file, dependency.source.line, f"invalid marker in extra {key[:100]!r}"))
            continue
        kept.dependencies.append(dependency)
    return kept


def _module_literals(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level ``NAME = <literal list/tuple/dict>`` assignments (the last one wins)."""
    names: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        else:
            continue
        if isinstance(value, ast.List | ast.Tuple | ast.Dict):
            names[target] = value
        else:
            names.pop(target, None)
    return names


def _setup_calls(tree: ast.Module) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = (
            function.id
            if isinstance(function, ast.Name)
            else function.attr
            if isinstance(function, ast.Attribute)
            else ""
        )
        if name == "setup":
            calls.append(node)
    return calls
