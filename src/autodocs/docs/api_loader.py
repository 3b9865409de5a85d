"""Reading a package's modules with griffe: statically, by relevance, within a deadline and size caps.

:func:`load_package` reads the package's modules with griffe (``allow_inspection=False``: a
compiled module without ``.pyi`` stubs is skipped, not imported). griffe loads a package in one
call, which for a package of thousands of modules can outlast a tool call. Through griffe's
public API only: the loader's ``finder`` (a public property) is our :class:`_RelevanceFinder`,
whose ``submodules()`` lists the modules that matter for the question first (those on the
asked-for object's path, then those the package's ``__init__`` re-exports from, then public
before private) and decides each one as griffe's loop reaches it (griffe loads each submodule
before it takes the next), so the rest are skipped — and named — once the deadline is near. The
answer then says it is partial. ``tests/docs/test_api_loader.py`` fails loudly if a griffe
release stops iterating that list one module at a time.

Memory grows with the source griffe reads (a 5 MB module of one huge table took over 1 GB), and
anyone can publish such a package, so the same loop also skips a module larger than
``SourceLimits.module_bytes`` and stops reading a package once ``SourceLimits.package_bytes`` of
source were read; and a module griffe cannot parse (nested past what Python's parser builds:
RecursionError, which griffe lets through and which ends its whole load) is named, left out,
and the package loaded again without it. Those skips are lasting (a later, longer load would skip them again), so they
are warnings, not a partial answer. The hard bound on memory is the worker process the analysis
runs in (:mod:`autodocs.docs.analysis`).
"""

from __future__ import annotations

import sysconfig
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import griffe

from autodocs.docs.api_limits import SourceLimits
from autodocs.errors import CodeUnavailable

__all__ = ["LOAD_ERRORS", "LoadedPackage", "SourceLimits", "load_package"]


_RAISE_CAPS = "Raise AUTODOCS_MAX_MODULE_BYTES (or AUTODOCS_MAX_PACKAGE_SOURCE_BYTES) to read larger modules."
#: What loading a module can raise; RecursionError: nesting past what Python's parser builds.
LOAD_ERRORS = (ModuleNotFoundError, ImportError, griffe.LoadingError, OSError, SyntaxError, ValueError, RecursionError)
#: How many unparseable modules one load may leave out (each costs a new load of the package).
_MAX_UNREADABLE = 5


class _TooLarge(griffe.LoadingError):
    """A top-level module over the size cap (already recorded by the loader)."""


@dataclass
class LoadedPackage:
    """The griffe tree of one package's top-level modules, and what was left out."""

    loader: _BoundedLoader
    top_names: tuple[str, ...]
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external_failed: set[str] = field(default_factory=set)

    @property
    def partial(self) -> bool:
        return bool(self.skipped)

    def get(self, path: str) -> griffe.Object | griffe.Alias:
        member: griffe.Object | griffe.Alias = self.loader.modules_collection.get_member(path)
        return member

    def limit_warnings(self) -> list[str]:
        """What the size caps left out, said so the reader knows which setting to raise."""
        warnings = []
        too_large, limits = self.loader.too_large, self.loader.limits
        if too_large:
            listed = ", ".join(f"{name} ({size} bytes)" for name, size in too_large[:10])
            warnings.append(
                f"Skipped {len(too_large)} module(s) larger than AUTODOCS_MAX_MODULE_BYTES "
                f"({limits.module_bytes} bytes): {listed}."
            )
        unread = self.loader.over_budget
        if unread:
            warnings.append(
                f"Stopped reading after AUTODOCS_MAX_PACKAGE_SOURCE_BYTES ({limits.package_bytes} bytes) "
                f"of source; {len(unread)} module(s) not read, e.g. {', '.join(unread[:5])}."
            )
        return warnings


class _BoundedLoader(griffe.GriffeLoader):
    """A griffe loader reading submodules by relevance, within the deadline and size caps."""

    def __init__(
        self, *, deadline: float, focus: str, limits: SourceLimits, search_paths: list[str], **kwargs: Any
    ) -> None:
        super().__init__(search_paths=search_paths, **kwargs)
        self.search_paths = search_paths
        self.deadline = deadline
        self.focus = focus
        self.limits = limits
        self.read_bytes = 0
        self.skipped: list[str] = []
        self.too_large: list[tuple[str, int]] = []
        self.over_budget: list[str] = []
        self.unreadable: list[str] = []  # modules griffe could not parse (a 200,000-term expression)

    @cached_property
    def finder(self) -> griffe.ModuleFinder:
        """griffe's module finder, listing submodules in our order and deciding each in turn."""
        return _RelevanceFinder(self)

    def load(self, objspec: str | Path | None = None, /, **kwargs: Any) -> griffe.Object | griffe.Alias:
        """griffe's ``load``, refusing (:class:`_TooLarge`) a top-level module over the caps, and
        loading again without a submodule whose parse hit RecursionError."""
        if isinstance(objspec, str):
            top = objspec.split(".", 1)[0]
            _, package = self.finder.find_spec(
                top, try_relative_path=False, find_stubs_package=bool(kwargs.get("find_stubs_package"))
            )
            if isinstance(package, griffe.Package):
                for path in (package.path, package.stubs):
                    if path is not None and not self.admit(top, path):
                        raise _TooLarge(f"{top} is over a source size cap")
        finder = self.finder
        assert isinstance(finder, _RelevanceFinder)
        for _ in range(_MAX_UNREADABLE):
            records = self._records()
            finder.reading = None
            try:
                loaded: griffe.Object | griffe.Alias = super().load(objspec, **kwargs)
                return loaded
            except RecursionError:  # nesting past what Python's parser builds: leave it out, keep the rest
                culprit = finder.reading
                if culprit is None:
                    raise
                self._restore(records)
                finder.excluded.add(culprit)
                self.unreadable.append(f"{culprit}: RecursionError: nested too deeply")
        raise RecursionError(f"more than {_MAX_UNREADABLE} modules of {objspec} nested too deeply")

    def admit(self, dotted: str, path: Path) -> bool:
        """Whether the size caps let ``path`` be read; records what they refuse."""
        try:
            size = path.stat().st_size
        except OSError:
            return True  # griffe reports the unreadable file itself
        if self.limits.module_bytes is not None and size > self.limits.module_bytes:
            self.too_large.append((dotted, size))
            return False
        if self.limits.package_bytes is not None and self.read_bytes + size > self.limits.package_bytes:
            self.over_budget.append(dotted)
            return False
        self.read_bytes += size
        return True

    def _records(self) -> tuple[int, int, int, int]:
        return self.read_bytes, len(self.skipped), len(self.too_large), len(self.over_budget)

    def _restore(self, records: tuple[int, int, int, int]) -> None:
        """Forget what a failed load recorded: the next one reads and records it again."""
        self.read_bytes = records[0]
        del self.skipped[records[1] :], self.too_large[records[2] :], self.over_budget[records[3] :]


class _RelevanceFinder(griffe.ModuleFinder):
    """griffe's finder, with ``submodules()`` in relevance order and decided one at a time."""

    def __init__(self, loader: _BoundedLoader) -> None:
        super().__init__(search_paths=loader.search_paths)
        self.loader = loader
        self.excluded: set[str] = set()  # modules whose parse hit RecursionError
        self.reading: str | None = None  # the submodule griffe is loading now

    def submodules(self, module: griffe.Module) -> list[griffe.NamePartsAndPathType]:
        wanted = _reexport_sources(module) | _prefixes(self.loader.focus)

        def priority(item: griffe.NamePartsAndPathType) -> tuple[bool, int, bool, tuple[str, ...]]:
            parts = item[0]
            dotted = ".".join((module.path, *parts))
            private = any(part.startswith("_") for part in parts)
            return (dotted not in wanted, len(parts), private, parts)

        def decide(item: griffe.NamePartsAndPathType) -> bool:
            dotted = ".".join((module.path, *item[0]))
            if dotted in self.excluded:
                return False
            if time.monotonic() >= self.loader.deadline:
                self.loader.skipped.append(dotted)
                return False
            if not self.loader.admit(dotted, item[1]):
                return False
            self.reading = dotted
            return True

        return _DecidedInTurn(sorted(super().submodules(module), key=priority), decide, self._finished)

    def _finished(self) -> None:
        self.reading = None


class _DecidedInTurn(list[griffe.NamePartsAndPathType]):
    """A list griffe iterates, each item decided (kept or left out) as the iteration reaches it:
    griffe loads each submodule before it takes the next, so a deadline is checked between them."""

    def __init__(
        self,
        items: Iterable[griffe.NamePartsAndPathType],
        keep: Callable[[griffe.NamePartsAndPathType], bool],
        finished: Callable[[], None],
    ) -> None:
        super().__init__(items)
        self._keep = keep
        self._finished = finished

    def __iter__(self) -> Iterator[griffe.NamePartsAndPathType]:
        for item in super().__iter__():
            if self._keep(item):
                yield item
        self._finished()


def _prefixes(path: str) -> set[str]:
    parts = path.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def _reexport_sources(module: griffe.Module) -> set[str]:
    """Modules the package's ``__init__`` imports names from (and their parents)."""
    sources: set[str] = set()
    for member in list(module.members.values()):
        if isinstance(member, griffe.Alias):
            target = member.target_path
            if target.startswith(module.path + "."):
                sources |= _prefixes(target.rsplit(".", 1)[0])
    return sources


def load_package(
    search_paths: list[Path],
    top_names: tuple[str, ...],
    *,
    focus: str,
    deadline: float,
    limits: SourceLimits | None = None,
) -> LoadedPackage:
    """Load ``top_names`` from ``search_paths`` statically; blocking (run it in a worker)."""
    loader = _BoundedLoader(
        deadline=deadline,
        focus=focus,
        limits=limits or SourceLimits(),
        search_paths=[*(str(p) for p in search_paths), sysconfig.get_paths()["stdlib"]],
        allow_inspection=False,
        docstring_parser="auto",
        store_source=False,
    )
    loaded = LoadedPackage(loader=loader, top_names=top_names)
    found_any = False
    pending = list(top_names)
    for attempt in range(2):  # a top-level package re-exporting a sibling (attrs → attr) loads after it
        retry = []
        for name in pending:
            try:
                loader.load(name, submodules=True, try_relative_path=False, find_stubs_package=True)
                found_any = True
            except _TooLarge:
                continue  # named in the reply's warnings (limit_warnings)
            except (griffe.AliasResolutionError, griffe.CyclicAliasError) as exc:
                if attempt == 0 and len(pending) > 1:
                    retry.append(name)
                else:  # an extension tripped on an alias after the modules were read: keep them
                    found_any = found_any or name in loader.modules_collection.members
                    loaded.failed.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
            except LOAD_ERRORS as exc:
                loaded.failed.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
        pending = retry
        if not pending:
            break
    if not found_any:
        over_caps = loaded.limit_warnings()
        reason = " ".join(over_caps) or "a compiled module without .pyi stubs cannot be read without importing it."
        raise CodeUnavailable(
            f"No readable Python code for {', '.join(top_names)}: {reason}",
            suggestions=[_RAISE_CAPS] if over_caps else None,
            details={"failed": loaded.failed[:10]},
        )
    try:
        loader.resolve_aliases(implicit=False, external=False, max_iterations=3)
    except Exception:  # alias resolution is best effort; unresolved ones show as aliases
        loaded.failed.append("alias resolution stopped early")
    loaded.skipped = loader.skipped
    loaded.failed += loader.unreadable
    return loaded
