"""Loading a package with griffe through its public API (autodocs.docs.api_loader): the relevance
order, the deadline between submodules, the size caps and the RecursionError skip; and the one
griffe behaviour this rests on, checked so that a griffe release that changes it fails here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import griffe
import pytest

from autodocs.docs.api_loader import SourceLimits, load_package

HUGE_EXPRESSION = "X = " + "+".join(["1"] * 200_000) + "\n"


def _package(root: Path, name: str, modules: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text('"""The package."""\n')
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(source)
    return root


class _Watching(list[griffe.NamePartsAndPathType]):
    """Notes, as each submodule is handed out, which submodules the package already has."""

    def __init__(self, items: list[griffe.NamePartsAndPathType], package: griffe.Module, seen: list[set[str]]) -> None:
        super().__init__(items)
        self._package = package
        self._seen = seen

    def __iter__(self) -> Iterator[griffe.NamePartsAndPathType]:
        for item in super().__iter__():
            self._seen.append(set(self._package.members))
            yield item


def test_griffe_loads_each_submodule_before_it_takes_the_next(tmp_path: Path) -> None:
    """The deadline and size caps rest on this: if it fails, griffe now reads the list of
    submodules ahead, and autodocs/docs/api_loader.py's _DecidedInTurn must change."""
    root = _package(tmp_path, "pkg", {"a": "A = 1\n", "b": "B = 2\n", "c": "C = 3\n"})
    seen: list[set[str]] = []

    class Finder(griffe.ModuleFinder):
        def submodules(self, module: griffe.Module) -> list[griffe.NamePartsAndPathType]:
            return _Watching(super().submodules(module), module, seen)

    class Loader(griffe.GriffeLoader):
        @cached_property
        def finder(self) -> griffe.ModuleFinder:
            return Finder(search_paths=[str(root)])

    Loader(search_paths=[str(root)], allow_inspection=False).load("pkg", try_relative_path=False)
    assert [len(members) for members in seen] == [0, 1, 2]


def test_modules_on_the_asked_path_are_read_before_the_deadline_stops_the_rest(tmp_path: Path) -> None:
    root = _package(tmp_path, "pkg", {"alpha": "A = 1\n", "omega": "O = 1\n", "zeta": "Z = 1\n"})
    loaded = load_package([root], ("pkg",), focus="pkg.zeta.Z", deadline=time.monotonic() - 1)
    assert loaded.partial
    assert sorted(loaded.skipped) == ["pkg.alpha", "pkg.omega", "pkg.zeta"]
    assert loaded.get("pkg").docstring is not None


def test_with_time_left_every_submodule_is_read(tmp_path: Path) -> None:
    root = _package(tmp_path, "pkg", {"alpha": "A = 1\n", "_private": "P = 1\n"})
    loaded = load_package([root], ("pkg",), focus="pkg", deadline=time.monotonic() + 60)
    assert not loaded.partial
    assert loaded.get("pkg.alpha.A").name == "A"
    assert loaded.get("pkg._private.P").name == "P"


def test_a_module_over_the_size_cap_is_skipped_and_named(tmp_path: Path) -> None:
    root = _package(tmp_path, "pkg", {"small": "S = 1\n", "big": "B = 1\n" + "# padding\n" * 200})
    limits = SourceLimits(module_bytes=1000, package_bytes=None)
    loaded = load_package([root], ("pkg",), focus="pkg", deadline=time.monotonic() + 60, limits=limits)
    assert loaded.get("pkg.small.S").name == "S"
    assert "pkg.big" not in loaded.get("pkg").members
    assert any("pkg.big" in warning for warning in loaded.limit_warnings())


def test_a_module_nested_too_deeply_is_left_out_and_its_siblings_are_read(tmp_path: Path) -> None:
    root = _package(tmp_path, "pkg", {"alpha": "A = 1\n", "huge": HUGE_EXPRESSION, "zeta": "Z = 1\n"})
    loaded = load_package([root], ("pkg",), focus="pkg", deadline=time.monotonic() + 60)
    assert loaded.get("pkg.alpha.A").name == "A"
    assert loaded.get("pkg.zeta.Z").name == "Z"
    assert "pkg.huge" not in loaded.get("pkg").members
    assert loaded.failed == ["pkg.huge: RecursionError: nested too deeply"]
    assert not loaded.partial


@pytest.mark.parametrize("package_bytes", [60, 10_000])
def test_the_package_budget_is_counted_once_when_a_load_is_retried(tmp_path: Path, package_bytes: int) -> None:
    root = _package(tmp_path, "pkg", {"alpha": "A = 1\n", "huge": HUGE_EXPRESSION, "zeta": "Z = 1\n"})
    limits = SourceLimits(module_bytes=None, package_bytes=len(HUGE_EXPRESSION) + package_bytes)
    loaded = load_package([root], ("pkg",), focus="pkg", deadline=time.monotonic() + 60, limits=limits)
    assert loaded.get("pkg.zeta.Z").name == "Z"
    assert loaded.limit_warnings() == []
