"""setuptools' ``setup.cfg`` and ``setup.py``, read statically.

``setup.cfg`` goes through configparser (what setuptools itself uses): ``[options]
install_requires`` (main) and ``[options.extras_require]`` (``optional:<extra>``).

``setup.py`` is **never executed**: running a project's code to learn its dependencies
would run whatever it contains. It is parsed with :mod:`ast` and only literal values are
read: ``setup(install_requires=[...], extras_require={...})`` (also ``setuptools.setup``),
where a value may also be a module-level name assigned a literal list or dict. Anything
computed (comprehensions, function calls, ``open(...)``) is skipped. No library does
this: the ones that read setup.py (``distutils.core.run_setup``, pip, build) all run it.
"""

from __future__ import annotations

import ast
import configparser
from typing import Any

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
    """Literal install_requires/extras_require of every ``setup(...)`` call; never runs the file."""
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as exc:
        raise ManifestError(
            f"{file}: not valid Python (line {exc.lineno}: {exc.msg})", file=file, line=exc.lineno
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ManifestError(f"{file}: not valid Python ({type(exc).__name__})", file=file) from None
    names = _module_literals(tree)
    parsed = ParsedFile()
    for call in _setup_calls(tree):
        for keyword in call.keywords:
            value = names.get(keyword.value.id, keyword.value) if isinstance(keyword.value, ast.Name) else keyword.value
            if keyword.arg == "install_requires":
                parsed.extend(_requirements(value, "main", file))
            elif keyword.arg == "extras_require" and isinstance(value, ast.Dict):
                for key, requirements in zip(value.keys, value.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        resolved = (
                            names.get(requirements.id, requirements)
                            if isinstance(requirements, ast.Name)
                            else requirements
                        )
                        found = _requirements(resolved, _extra_group(key.value), file)
                        parsed.extend(_with_key_marker(key.value, found, file))
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


def _requirements(node: Any, group: str, file: str) -> ParsedFile:
    parsed = ParsedFile()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        items: list[ast.expr] = [node]
    elif isinstance(node, ast.List | ast.Tuple):
        items = list(node.elts)
    else:
        return parsed  # computed at run time: cannot be known without running the file
    for item in items:
        if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
            continue
        for text in item.value.splitlines():
            text = text.split(" #")[0].strip()
            if not text or text.startswith("#"):
                continue
            try:
                parsed.dependencies.append(dependency_from_requirement(text, group=group, file=file, line=item.lineno))
            except ManifestError as exc:
                parsed.problems.append(exc)
    return parsed
