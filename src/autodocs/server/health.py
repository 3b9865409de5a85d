"""Liveness, readiness and metrics reports, shared by the HTTP routes and the MCP tools."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from autodocs import __version__

if TYPE_CHECKING:
    from autodocs.server.lifecycle import Lifecycle
    from autodocs.service import AutoDocsService

__all__ = ["HealthReport", "MetricsReport", "ReadyReport", "health_report", "ready_report"]


class HealthReport(BaseModel):
    status: str = "ok"
    version: str = __version__
    uptime_s: float
    in_flight: int
    draining: bool
    database_pool: dict[str, int] | None = Field(
        default=None, description="Pooled stores: connections in use, idle, waiting, timeouts, max (no query)."
    )


class ReadyReport(BaseModel):
    ready: bool = Field(description="True when this process should receive traffic.")
    draining: bool
    cache: str = Field(description="'ok', or why the cache store does not answer.")
    circuits: dict[str, str] = Field(
        default_factory=dict,
        description="Circuit state per index host. An open circuit does not make the server unready: "
        "cached docs are still served.",
    )
    in_flight: int
    database_pool: dict[str, int] | None = Field(
        default=None, description="Pooled stores: connections in use, idle, waiting, timeouts, max."
    )


class MetricsReport(BaseModel):
    metrics: dict[str, Any]


def health_report(lifecycle: Lifecycle, service: AutoDocsService | None = None, *, asking: int = 0) -> HealthReport:
    """``asking``: calls in flight that are this very question (a tool call asking for health)."""
    return HealthReport(
        uptime_s=round(time.time() - lifecycle.started_at, 1),
        in_flight=max(0, lifecycle.in_flight - asking),
        draining=lifecycle.draining,
        database_pool=service.store.pool_facts() if service is not None else None,
    )


async def ready_report(lifecycle: Lifecycle, service: AutoDocsService | None, *, asking: int = 0) -> ReadyReport:
    in_flight = max(0, lifecycle.in_flight - asking)
    if service is None:
        return ReadyReport(ready=False, draining=lifecycle.draining, cache="not open", in_flight=in_flight)
    facts = await service.readiness()
    return ReadyReport(
        ready=facts["ready"] and not lifecycle.draining,
        draining=lifecycle.draining,
        cache=facts["cache"],
        circuits=facts["circuits"],
        in_flight=in_flight,
        database_pool=service.store.pool_facts(),
    )
