"""The context use cases: a package with its runtime dependencies, and a whole project.

``get_docs_with_context`` gives the package half the budget or more and shares the rest
between the runtime dependencies it lists (no extras; each at least ``MIN_TOKENS``);
``project_context`` scans the project and fetches every dependency it can document (lock pins
first). Dependencies are fetched concurrently; one that fails is a ``FailedPackage`` entry
with the error's type, message and suggestions, never a failed call.
"""

from __future__ import annotations

import asyncio
import functools

import structlog

from autodocs.docs.model import DocsPage, PackageDocument
from autodocs.docs.pages import MIN_TOKENS
from autodocs.errors import AutoDocsError, to_error_payload
from autodocs.index import normalize_package_name
from autodocs.manifests import SkippedDependency
from autodocs.manifests.documentable import docs_requests
from autodocs.usecases.docs import PackageDocs
from autodocs.usecases.machinery.calls import CallLimits
from autodocs.usecases.machinery.project_indexes import ProjectIndexes, ProjectPlan, served_by
from autodocs.usecases.replies import ContextResult, FailedPackage, ProgressHook, ProjectContextResult
from autodocs.usecases.resolution import Resolution

__all__ = ["Contexts"]

log = structlog.get_logger(__name__)
#: A dependency shown with context gets at least this many tokens.
_MIN_TOKENS_PER_PACKAGE = MIN_TOKENS


class Contexts:
    def __init__(
        self, docs: PackageDocs, *, calls: CallLimits, resolution: Resolution, projects: ProjectIndexes
    ) -> None:
        self._docs = docs
        self._calls = calls
        self._resolution = resolution
        self._projects = projects

    async def with_dependencies(
        self,
        package_name: str,
        version_constraint: str | None = None,
        *,
        include_dependencies: bool = True,
        max_dependencies: int | None = None,
        max_tokens: int | None = None,
        on_progress: ProgressHook | None = None,
        project_path: str | None = None,
    ) -> ContextResult:
        """``project_path``: the package and its dependencies come from that project's indexes, each
        at the project's lock pin when it locks one (else the requirement's specifier)."""
        budget = self._calls.budget(max_tokens)
        limit = self._calls.dependency_limit(max_dependencies)
        name = normalize_package_name(package_name)
        async with self._calls.deadline(f"docs for {name}"):
            project = await self._projects.plan(project_path) if project_path else None
            if project is not None:
                version_constraint = project.constraint(name, version_constraint)
            async with self._projects.client(project, name) as index:
                resolved = await self._resolution.resolve(name, version_constraint, index=index)
            key = index.cache_key
            opener = functools.partial(self._projects.client, project, name)  # a build's download, leased anew
            lookup = await self._docs.lookup_docset(name, resolved.document.version, key, opener, state=resolved.state)
        runtime = _runtime_requirements(resolved.document)
        if project is not None:  # the project's lock pin over the package's own requirement
            runtime = [
                (dep, spec if not project.pinned(dep) else project.constraint(dep, None)) for dep, spec in runtime
            ]
        chosen = runtime[:limit] if include_dependencies else []
        main_budget = budget if not chosen else max(budget // 2, budget - _MIN_TOKENS_PER_PACKAGE * len(chosen))
        package = self._docs.first_page(resolved, key, main_budget, version_constraint, lookup)
        if project is not None:
            package = package.model_copy(update={"index": served_by(index, name)})
        beyond = [name for name, _ in runtime[len(chosen) :]]
        why = f"beyond max_dependencies ({limit})" if include_dependencies else "include_dependencies is false"
        result = ContextResult(
            package=package, skipped_dependencies=beyond, index_notes=project.notes if project else []
        )
        result.skipped = [SkippedDependency(name=name, reason=why) for name in beyond]
        if chosen:
            each = max(_MIN_TOKENS_PER_PACKAGE, (budget - package.tokens) // len(chosen))

            async def one(dependency: str, spec: str | None) -> DocsPage | FailedPackage:
                outcome = await self._page_or_failure(dependency, spec, each, project)
                if on_progress is not None:
                    await on_progress(dependency, not isinstance(outcome, FailedPackage), len(chosen))
                return outcome

            outcomes = await asyncio.gather(*(one(dep, spec) for dep, spec in chosen))
            for outcome in outcomes:
                if isinstance(outcome, FailedPackage):
                    result.failed.append(outcome)
                else:
                    result.succeeded.append(outcome)
        total = 1 + len(chosen)
        result.partial = bool(result.failed)
        result.completion_rate = round((total - len(result.failed)) / total, 4)
        result.tokens = package.tokens + sum(page.tokens for page in result.succeeded)
        return result

    async def of_project(
        self,
        project_path: str,
        *,
        max_tokens: int | None = None,
        on_progress: ProgressHook | None = None,
    ) -> ProjectContextResult:
        """Scan the project, then docs for every dependency (lock pins first), concurrently, each
        from the index the project's plan gives it (:mod:`.machinery.project_indexes`)."""
        project = await self._projects.plan(project_path)
        scan = project.scan
        wanted = docs_requests(scan.dependencies)  # what cannot be documented is in scan.skipped
        budget = self._calls.budget(max_tokens)
        each = max(_MIN_TOKENS_PER_PACKAGE, budget // max(1, len(wanted)))

        async def one(name: str, constraint: str | None) -> DocsPage | FailedPackage:
            outcome = await self._page_or_failure(name, constraint, each, project)
            if on_progress is not None:
                await on_progress(name, not isinstance(outcome, FailedPackage), len(wanted))
            return outcome

        outcomes = await asyncio.gather(*(one(name, spec) for name, spec in wanted.items()))
        result = ProjectContextResult(
            project_path=scan.project_path, scan=scan, skipped=scan.skipped, index_notes=project.notes
        )
        for outcome in outcomes:
            (result.failed if isinstance(outcome, FailedPackage) else result.succeeded).append(outcome)  # type: ignore[arg-type]
        result.partial = bool(result.failed) or scan.partial
        result.completion_rate = round(len(result.succeeded) / len(wanted), 4) if wanted else 1.0
        return result

    async def _page_or_failure(
        self, name: str, constraint: str | None, budget: int, project: ProjectPlan | None = None
    ) -> DocsPage | FailedPackage:
        try:
            return await self._docs.get(name, constraint, max_tokens=budget, project=project, with_docset=False)
        except AutoDocsError as exc:
            return _failure(name, exc)
        except Exception as exc:  # one package's bug must not fail the batch
            log.exception("service.package_failed", package=name)
            return _failure(name, exc)


def _runtime_requirements(document: PackageDocument) -> list[tuple[str, str | None]]:
    """Requirements needed without extras, each name once, in the order the package lists them."""
    seen: dict[str, str | None] = {}
    for requirement in document.requirements:
        if requirement.extra is None and requirement.name not in seen and requirement.name != document.name:
            seen[requirement.name] = requirement.specifier or None
    return list(seen.items())


def _failure(name: str, exc: BaseException) -> FailedPackage:
    error = to_error_payload(exc)["error"]
    return FailedPackage(
        name=name,
        error_type=error["type"],
        message=error["message"],
        retryable=error["retryable"],
        suggestions=error["suggestions"],
    )
