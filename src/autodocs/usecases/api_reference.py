"""The API-reference use case: where a package's code comes from, loading it, caching, budgeting.

Order of sources (the first that has the package wins):

1. the environment ``AUTODOCS_PYTHON`` names, else the project's ``.venv/`` or ``venv/`` —
   read from disk (:mod:`autodocs.sources.environment`); its version is the distribution's own;
   a lock pin that differs is reported as a warning;
2. the exact version's wheel (or sdist) from the package index (with a project, the index its
   plan gives the package: :mod:`.machinery.project_indexes`), downloaded once into
   ``CACHE_DIR/code`` (:mod:`autodocs.sources.archives`).

A complete reference is cached in the store per (index key, name, version, object path) with a
fingerprint of the code it came from (an editable install changes without a version bump), and
in memory, keyed by the index client's ``cache_key`` too (:mod:`autodocs.index.keys`). A package
too large to read before the deadline gets a partial answer that says so, while a background
load (one at a time) completes and caches the full reference for next time.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from autodocs.cache import Store
from autodocs.cache.base import SearchEntry
from autodocs.config import Settings
from autodocs.confine import Confinement
from autodocs.deadline import remaining
from autodocs.docs.analysis import Analysis, AnalysisRequest, AnalysisWorkers
from autodocs.docs.api_limits import SourceLimits
from autodocs.docs.api_model import ApiObject, ApiReference
from autodocs.docs.tokens import count_tokens
from autodocs.errors import AutoDocsError, CacheError, CodeUnavailable, InvalidArgument
from autodocs.index.names import normalize_package_name
from autodocs.memo import LruMap
from autodocs.resolve import parse_constraint
from autodocs.sources.archives import fetch_release_code, release_code_dir
from autodocs.sources.code import ReleaseCode, archive_code, environment_code, stamp
from autodocs.sources.environment import PythonEnvironment, find_environment, open_environment
from autodocs.usecases.machinery.calls import CallLimits
from autodocs.usecases.machinery.flight import SingleFlight
from autodocs.usecases.machinery.project_indexes import ProjectIndexes, served_by
from autodocs.usecases.machinery.writebehind import WriteBehind

if TYPE_CHECKING:  # its HTTP stack is imported when a service opens, not with this module
    from autodocs.index import IndexClient

__all__ = ["ApiReferences", "parse_object_path"]

log = structlog.get_logger(__name__)

_OBJECT_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_MAX_OBJECT_PATH = 500
_MEMORY_REFERENCES = 256
_MEMORY_TREES = 2
#: Time kept back from the call's deadline for describing, budgeting and replying.
_REPLY_MARGIN_S = 1.5
_BACKGROUND_LOAD_S = 600.0
_MAX_OMITTED_LISTED = 100
_HOW_TO_GET_MORE = "Some members did not fit in max_tokens: ask for one with object_path, or raise max_tokens."


def parse_object_path(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    text = text.strip().replace(":", ".")
    if len(text) > _MAX_OBJECT_PATH or not _OBJECT_PATH.match(text):
        raise InvalidArgument(
            f"{text[:100]!r} is not a dotted Python object path.",
            suggestions=["Use a path like 'httpx.Client.get' or 'Client.get' (relative to the package)."],
        )
    return text


class ResolveVersion(Protocol):
    """The exact version a docs call with ``constraint`` documents, from ``index``."""

    async def __call__(self, name: str, constraint: str | None, *, index: IndexClient | None = None) -> str: ...


class ApiReferences:
    """``projects`` scans a project (checking the allowed roots) and lends the index client that
    serves a package of it; ``resolve_version`` picks the exact version a docs call with that
    constraint would document, from that client."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        allowed_roots: list[Path] | None,
        calls: CallLimits,
        flights: SingleFlight,
        writes: WriteBehind,
        projects: ProjectIndexes,
        resolve_version: ResolveVersion,
    ) -> None:
        self._settings = settings
        self._cache = store
        self._allowed_roots = allowed_roots
        self._calls = calls
        self._flights = flights
        self._writes = writes
        self._projects = projects
        self._resolve_version = resolve_version
        self._references: LruMap[tuple[str, str, str, str, str], ApiReference] = LruMap(_MEMORY_REFERENCES)
        self._workers = AnalysisWorkers(self._settings.analysis_memory_bytes)
        self._limits = SourceLimits(self._settings.max_module_bytes, self._settings.max_package_source_bytes)
        self._background: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._environments: LruMap[str, tuple[tuple[int, ...], PythonEnvironment]] = LruMap(_MEMORY_TREES * 8)
        #: Fitted replies as JSON text (immutable): each hit is parsed into the caller's own dict.
        self._replies: LruMap[tuple[str, str, str, str, str, int, tuple[str, ...]], str] = LruMap(_MEMORY_REFERENCES)

    async def get(
        self,
        package_name: str,
        object_path: str | None = None,
        *,
        project_path: str | None = None,
        version_constraint: str | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        name = normalize_package_name(package_name)
        wanted_path = parse_object_path(object_path)
        budget = self._calls.budget(max_tokens)
        async with self._calls.deadline(f"the API reference of {name}"):
            self._workers.warm_up()  # in parallel with finding (or downloading) the code
            code, warnings, origin, index_key = await self._locate(name, project_path, version_constraint)
            path = self._absolute(code, wanted_path)
            try:
                reference = await self._reference(index_key, code, path)
            except CodeUnavailable as exc:
                if warnings:  # e.g. the code was outside the allowed roots: the error says so
                    exc.details.setdefault("warnings", warnings)
                raise
        reply_key = (index_key, code.name, code.version, path, code.fingerprint, budget, tuple(warnings))
        kept = self._replies.get(reply_key)
        if kept is not None:
            return {**json.loads(kept), "served_from": "cache", **origin}
        reference = reference.model_copy(update={"warnings": (*warnings, *reference.warnings)})
        reply = fit_reference(reference, budget)
        if not reference.partial:
            self._replies.put(reply_key, json.dumps(reply, ensure_ascii=False))
        return {**reply, **origin}

    # -- where the code is ---------------------------------------------------------------

    async def _locate(
        self, name: str, project_path: str | None, version_constraint: str | None
    ) -> tuple[ReleaseCode, list[str], dict[str, Any], str]:
        """The code, warnings, with a project its ``index_notes`` (and ``index``, when the code
        comes from the index), and the cache key of the index the code came from (the server's
        own for code from an environment)."""
        warnings: list[str] = []
        project: Path | None = None
        pin: str | None = None
        plan = await self._projects.plan(project_path) if project_path else None  # checks the roots
        origin: dict[str, Any] = {"index_notes": plan.notes} if plan and plan.notes else {}
        if plan is not None:
            project = Path(plan.scan.project_path)
            for dependency in [*plan.scan.dependencies, *plan.scan.locked_only]:
                if dependency.name == name:
                    pin = pin or dependency.pinned_version
        specifiers = parse_constraint(version_constraint)
        environment, skipped = await asyncio.to_thread(self._environment, project)
        warnings += skipped
        installed = await asyncio.to_thread(environment.distribution, name) if environment else None
        if installed is not None:
            if not specifiers or _satisfies(specifiers, installed.version):
                if pin is not None and pin != installed.version:
                    warnings.append(
                        f"The environment has {name} {installed.version} but the lock file pins {pin}; "
                        "this reference is of the installed version (re-sync the environment to match the lock)."
                    )
                assert environment is not None
                code = await asyncio.to_thread(
                    environment_code,
                    installed,
                    environment,
                    snapshots=self._settings.cache_dir / "snapshots",
                    max_wheel_bytes=self._settings.max_wheel_bytes,
                )
                return code, list(dict.fromkeys([*warnings, *code.warnings])), origin, self._projects.default.cache_key
            warnings.append(
                f"The environment has {name} {installed.version}, which does not match {version_constraint}; "
                "this reference is read from the package index's archive of the matching version."
            )
        constraint = plan.constraint(name, version_constraint) if plan else version_constraint
        async with self._projects.client(plan, name) as index:  # the project's index for this package
            version = await self._resolve_version(name, constraint, index=index)
            code = await self._archive_code(name, version, index)
        if plan is not None:
            origin["index"] = served_by(index, name)
        return code, [*warnings, *code.warnings], origin, index.cache_key

    def _environment(self, project: Path | None) -> tuple[PythonEnvironment | None, list[str]]:
        """The environment to read and what of it was skipped (outside the allowed roots), reused
        while its site-packages folders are unchanged (installing or removing a distribution
        changes the folder's modification time)."""
        configured = self._settings.python
        key = f"python:{configured}" if configured is not None else f"project:{project}"
        remembered = self._environments.get(key)
        if remembered is not None and remembered[0] == stamp(remembered[1]):
            return remembered[1], remembered[1].warnings
        if configured is not None:
            environment = open_environment(configured)
            if environment is None:
                raise CodeUnavailable(
                    f"AUTODOCS_PYTHON ({configured}) is not a Python environment: no site-packages folder found."
                )
            return self._remember(key, environment), []
        confinement = Confinement.of(self._allowed_roots)  # the project's: inside the roots only
        environment, warnings = find_environment(project, None, confinement=confinement)
        return (self._remember(key, environment) if environment is not None else None), warnings

    def _remember(self, key: str, environment: PythonEnvironment) -> PythonEnvironment:
        self._environments.put(key, (stamp(environment), environment))
        return environment

    async def _archive_code(self, name: str, version: str, index: IndexClient) -> ReleaseCode:
        """The release's code from ``index``, downloaded once into the code cache (filed under its key)."""
        index_key = index.cache_key
        folder = release_code_dir(self._settings.cache_dir, index_key, name, version)
        if not await asyncio.to_thread(folder.is_dir):
            files = await index.fetch_release_files(name, version)
            await self._flights.run(
                ("code", index_key, name, version),
                fetch_release_code,
                index.fetcher,
                files,
                folder,
                max_bytes=self._settings.max_wheel_bytes,
                max_entries=self._settings.max_archive_entries,
            )
        return await asyncio.to_thread(archive_code, name, version, folder)

    @staticmethod
    def _absolute(code: ReleaseCode, path: str | None) -> str:
        if path is None:
            return code.top_names[0]
        head = path.split(".", 1)[0]
        if head in code.top_names:
            return path
        return f"{code.top_names[0]}.{path}"  # relative to the package, e.g. "Client.get"

    # -- loading and caching ---------------------------------------------------------------

    async def _reference(self, index_key: str, code: ReleaseCode, path: str) -> ApiReference:
        key = (index_key, code.name, code.version, path, code.fingerprint)
        remembered = self._references.get(key)
        if remembered is not None:
            return remembered.model_copy(update={"served_from": "cache"})
        stored = await self._stored(index_key, code, path)
        if stored is not None:
            self._references.put(key, stored)
            return stored
        analysis = await self._analyse(code, path)
        reference = ApiReference(
            package=code.name,
            version=code.version,
            object_path=path,
            source=code.source,
            object=analysis.root,
            members=analysis.members,
            partial=analysis.partial,
            modules_skipped=analysis.skipped[:_MAX_OMITTED_LISTED],
            warnings=_load_warnings(analysis),
        )
        if not analysis.partial:
            self._references.put(key, reference)
            self._writes.queue(lambda: self._store(index_key, code, path, reference))
        return reference

    def _request(self, code: ReleaseCode, path: str, deadline: float) -> AnalysisRequest:
        return AnalysisRequest(
            package=f"{code.name} {code.version}",
            tree_key=(code.name, code.fingerprint),
            search_paths=code.search_paths,
            top_names=code.top_names,
            object_path=path,
            deadline=deadline,
            limits=self._limits,
        )

    async def _analyse(self, code: ReleaseCode, path: str) -> Analysis:
        """Describe ``path`` in the analysis worker (:mod:`autodocs.docs.analysis`)."""
        left = remaining(self._settings.request_timeout)
        # Reading stops at this point; listing a huge package's files and linking what was read
        # still follow, so the margin grows with the budget.
        deadline = time.monotonic() + max(0.25, left - max(_REPLY_MARGIN_S, left * 0.2))
        analysis = await self._workers.analyse(self._request(code, path, deadline))
        if analysis.partial:
            log.info("api.partial_load", package=code.name, version=code.version, skipped=len(analysis.skipped))
            self._complete_in_background(code)
        return analysis

    def _complete_in_background(self, code: ReleaseCode) -> None:
        """Load the whole package without the call's deadline, so the next call gets it all."""
        tree_key = (code.name, code.fingerprint)
        if tree_key in self._background:
            return

        async def complete() -> None:
            try:
                deadline = time.monotonic() + _BACKGROUND_LOAD_S
                await self._workers.complete(self._request(code, code.top_names[0], deadline))
            except AutoDocsError as exc:
                log.warning("api.background_load_failed", package=code.name, error=exc.type_name)
            finally:
                self._background.pop(tree_key, None)

        self._background[tree_key] = asyncio.ensure_future(complete())

    async def _stored(self, index_key: str, code: ReleaseCode, path: str) -> ApiReference | None:
        try:
            body = await self._cache.get_api_reference(index_key, code.name, code.version, path)
        except CacheError as exc:
            log.warning("cache.read_failed", error=exc.type_name, message=exc.message)
            return None
        if body is None:
            return None
        try:
            envelope = json.loads(body)
            if envelope.get("fingerprint") != code.fingerprint:
                return None
            reference = ApiReference.model_validate(envelope["reference"])
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("cache.unreadable_entry", name=code.name, version=code.version, object_path=path)
            return None
        return reference.model_copy(update={"served_from": "cache"})

    async def _store(self, index_key: str, code: ReleaseCode, path: str, reference: ApiReference) -> None:
        body = json.dumps({"fingerprint": code.fingerprint, "reference": reference.model_dump(mode="json")})
        entries = [_search_entry(item) for item in (reference.object, *reference.members)]
        await self._cache.put_api_reference(index_key, code.name, code.version, path, body, entries)

    async def aclose(self) -> None:
        for task in list(self._background.values()):
            task.cancel()
        await asyncio.gather(*self._background.values(), return_exceptions=True)
        await self._workers.aclose()


# -- helpers -----------------------------------------------------------------------------


def _satisfies(specifiers: SpecifierSet, version: str) -> bool:
    try:
        return specifiers.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _load_warnings(analysis: Analysis) -> list[str]:
    warnings = []
    if analysis.partial:
        warnings.append(
            f"Only part of the package could be read before the deadline ({len(analysis.skipped)} modules skipped); "
            "the complete reference is being prepared: ask again in a minute."
        )
    warnings += analysis.warnings
    warnings += [f"Not read: {failure}" for failure in analysis.failed[:10]]
    return warnings


def _search_entry(item: ApiObject) -> SearchEntry:
    docstring = item.docstring
    parts = [item.signature or item.path]
    if docstring is not None:
        parts += [docstring.summary or "", docstring.description or ""]
        parts += [f"{p.name}: {p.description}" for p in item.parameters if p.description]
    return SearchEntry(kind="api", path=item.path, text="\n".join(p for p in parts if p))


# -- the token budget ------------------------------------------------------------------------


def _tokens(payload: Any) -> int:
    return count_tokens(json.dumps(payload, ensure_ascii=False))


def fit_reference(reference: ApiReference, budget: int) -> dict[str, Any]:
    """The reply (compact JSON object) within ``budget`` tokens: members in order, full, then brief.

    Members are already sorted public before private, documented before undocumented. Each is
    shown in full while the rest still fit at least briefly (signature and summary); those that
    do not fit at all are listed by name in ``omitted_members``.
    """
    payload = reference.compact()
    limit = budget - 10 - budget // 100
    if _tokens(payload) <= limit:
        return payload
    members = payload.pop("members", [])
    payload["truncated"] = True
    payload["how_to_get_more"] = _HOW_TO_GET_MORE
    reserve = _tokens(payload) + _MAX_OMITTED_LISTED // 2
    if reserve > limit:  # even the object itself is too long: shorten its own docstring
        payload["object"] = _brief(payload["object"])
        reserve = _tokens(payload) + _MAX_OMITTED_LISTED // 2
    full_costs = [_tokens(m) + 1 for m in members]
    briefs = [_brief(m) for m in members]
    brief_costs = [_tokens(b) + 1 for b in briefs]
    room = limit - reserve
    shown: list[dict[str, Any]] = []
    brief_used = False
    for index, member in enumerate(members):
        rest_brief = sum(brief_costs[index + 1 :])
        if full_costs[index] + rest_brief <= room or (full_costs[index] <= room and index == len(members) - 1):
            shown.append(member)
            room -= full_costs[index]
        elif brief_costs[index] <= room:
            shown.append(briefs[index])
            room -= brief_costs[index]
            brief_used = True
        else:
            break
    omitted = [m["path"] for m in members[len(shown) :]]
    payload["members"] = shown
    if brief_used:
        payload["brief_members"] = True
    if omitted:
        payload["omitted_members"] = omitted[:_MAX_OMITTED_LISTED]
        if len(omitted) > _MAX_OMITTED_LISTED:
            payload["omitted_count"] = len(omitted)
    while shown and _tokens(payload) > limit:  # the estimate of the parts overshot: drop from the end
        dropped = shown.pop()
        payload.setdefault("omitted_members", []).insert(0, dropped["path"])
    if not payload["members"]:
        payload.pop("members")
    _shrink_lists(payload, limit)
    return payload


def _shrink_lists(payload: dict[str, Any], limit: int) -> None:
    """Tiny budgets: shorten the name lists (keeping their counts) until the reply fits."""
    total = len(payload.get("omitted_members", []))
    names = payload["object"].get("members", [])
    all_names = len(names)
    while _tokens(payload) > limit:
        omitted = payload.get("omitted_members", [])
        if len(omitted) > 5:
            payload["omitted_members"] = omitted[: len(omitted) // 2]
            payload["omitted_count"] = max(payload.get("omitted_count", 0), total)
        elif len(names) > 5:
            names = names[: len(names) // 2]
            payload["object"]["members"] = names
            payload["object"]["members_shown"] = f"{len(names)} of {all_names}"
        elif "docstring" in payload["object"] or "parameters" in payload["object"]:
            payload["object"] = _brief(payload["object"])
        else:
            return


def _brief(item: dict[str, Any]) -> dict[str, Any]:
    brief: dict[str, Any] = {k: item[k] for k in ("path", "kind", "signature", "annotation") if k in item}
    summary = (item.get("docstring") or {}).get("summary")
    if summary:
        brief["summary"] = summary
    return brief
