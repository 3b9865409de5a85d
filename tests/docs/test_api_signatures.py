"""The API reference's signatures agree with ``inspect.signature`` of the imported objects.

Static analysis (griffe) never imports the package; here the test imports it to check. For
each package, 30 public callables are sampled (top-level functions and classes, and methods
of public classes) with a fixed seed; each must report the same parameter names, kinds and
defaults. Defaults are compared by value: the source text is evaluated in the defining
module's namespace (the test may import; the code under test may not).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import random
import sys
import time
from pathlib import Path
from typing import Any

import pydantic
import pytest

from autodocs.docs.api import LoadedPackage, describe, load_package
from autodocs.docs.api_model import ApiObject
from autodocs.sources.environment import open_environment

SITE = Path(next(p for p in sys.path if p.endswith("site-packages")))
SAMPLE = 30
KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional-only",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional-or-keyword",
    inspect.Parameter.VAR_POSITIONAL: "var-positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword-only",
    inspect.Parameter.VAR_KEYWORD: "var-keyword",
}


def _public_modules(package: str) -> list[Any]:
    top = importlib.import_module(package)
    modules = [top]
    for info in pkgutil.iter_modules(getattr(top, "__path__", []), prefix=f"{package}."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            try:
                modules.append(importlib.import_module(info.name))
            except Exception:  # an optional dependency missing: not part of this sample
                continue
    return modules


def _public_callables(package: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()
    for module in _public_modules(package):
        found += _module_callables(module, package, seen)
    return found


def _module_callables(module: Any, package: str, seen: set[int]) -> list[tuple[str, Any]]:
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    found: list[tuple[str, Any]] = []
    prefix = module.__name__
    for name in sorted(set(names)):
        try:
            value = getattr(module, name)
        except AttributeError:
            continue
        if inspect.isfunction(value) or inspect.isclass(value):
            defined_in = getattr(value, "__module__", "") or ""
            if not (defined_in == package or defined_in.startswith(f"{package}.")) or id(value) in seen:
                continue
            seen.add(id(value))
            found.append((f"{prefix}.{name}", value))
            if inspect.isclass(value):
                for attr, member in vars(value).items():
                    if attr.startswith("_") or not inspect.isfunction(member):
                        continue
                    found.append((f"{prefix}.{name}.{attr}", getattr(value, attr)))
    return found


def _expected(path: str, value: Any) -> list[tuple[str, str, Any]] | None:
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())
    owner_name = path.rsplit(".", 2)[-2]
    method = inspect.isfunction(value) and "." in value.__qualname__ and owner_name in value.__qualname__
    # a plain method reached through its class: inspect keeps self, a call site does not
    if method and parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    return [(p.name, KINDS[p.kind], p.default) for p in parameters]


def _defining_namespace(value: Any) -> dict[str, Any]:
    """Globals of the code that declares the defaults (a class's __init__ or __new__)."""
    if inspect.isclass(value):
        for attr in ("__init__", "__new__"):
            function = getattr(value, attr, None)
            function = inspect.unwrap(function) if function is not None else None
            if inspect.isfunction(function):
                return {**function.__globals__, **vars(value)}  # defaults may name class attributes
        module = sys.modules.get(value.__module__)
        return dict(vars(module)) if module is not None else {}
    function = inspect.unwrap(value)
    namespace = dict(getattr(function, "__globals__", {}))
    owner = namespace.get(function.__qualname__.split(".")[0]) if "." in function.__qualname__ else None
    return {**namespace, **vars(owner)} if inspect.isclass(owner) else namespace


def _same_default(reported: str | None, expected: Any, namespace: dict[str, Any]) -> bool:
    if expected is inspect.Parameter.empty:
        return reported is None
    if reported is None:
        return False
    try:
        value = eval(reported, namespace)
    except Exception:
        return repr(expected) == reported
    return bool(value is expected or value == expected)


def _compare(obj: ApiObject, path: str, value: Any) -> str | None:
    expected = _expected(path, value)
    if expected is None:
        return None  # inspect cannot tell either: not counted
    got = [(p.name, p.kind) for p in obj.parameters]
    if got != [(name, kind) for name, kind, _ in expected]:
        return f"{path}: parameters {got} != {[(n, k) for n, k, _ in expected]}"
    namespace = _defining_namespace(value)
    for parameter, (_, _, default) in zip(obj.parameters, expected, strict=True):
        if not _same_default(parameter.default, default, namespace):
            return f"{path}: default of {parameter.name} {parameter.default!r} != {default!r}"
    return None


def _load(package: str) -> LoadedPackage:
    """The package as the API reference reads it from this test environment (statically)."""
    environment = open_environment(SITE)
    assert environment is not None
    distribution = environment.distribution(package)
    assert distribution is not None
    return load_package(
        list(distribution.search_paths), distribution.top_level, focus=package, deadline=time.monotonic() + 60
    )


@pytest.mark.parametrize("package", ["httpx", "pydantic", "packaging", "click"])
def test_reported_signatures_match_inspect_for_sampled_public_callables(package: str) -> None:
    loaded = _load(package)
    assert not loaded.partial
    callables = _public_callables(package)
    rng = random.Random(f"autodocs-{package}")
    sample = rng.sample(callables, min(SAMPLE, len(callables)))
    mismatches = []
    compared = 0
    for path, value in sample:
        root, _ = describe(loaded, path)
        assert root.kind in ("class", "function", "method", "property"), (path, root.kind)
        problem = _compare(root, path, value)
        if _expected(path, value) is not None:
            compared += 1
        if problem:
            mismatches.append(problem)
    assert compared >= 20  # builtin-derived classes have no signature for inspect either
    agreement = 1 - len(mismatches) / compared
    assert agreement >= 0.99 or len(mismatches) == 0, "\n".join(mismatches)


@pytest.mark.parametrize("package", ["httpx", "click"])
def test_docstring_summaries_match_the_imported_objects(package: str) -> None:
    loaded = _load(package)
    checked = 0
    for path, value in _public_callables(package)[:60]:
        own = value.__doc__  # a docstring inherited from outside the package is not in its code
        doc = inspect.cleandoc(own) if own else None
        if not doc or "{" in doc:  # formatted at import time: static text legitimately differs
            continue
        root, _ = describe(loaded, path)
        assert root.docstring is not None, path
        assert root.docstring.summary == doc.strip().splitlines()[0].strip(), path
        checked += 1
    assert checked >= 10


def test_pydantic_base_model_itself_shows_its_own_init() -> None:
    loaded = _load("pydantic")
    root, _ = describe(loaded, "pydantic.BaseModel")
    assert _compare(root, "pydantic.BaseModel", pydantic.BaseModel) is None
    assert root.signature == "BaseModel(**data: Any)"
