"""Prometheus metrics, attached at the boundaries: tool calls here, the rest read at scrape time.

Tool calls are counted and timed where they enter (server/tools.py calls :meth:`observe_call`).
Everything else — upstream requests by outcome, retries, hedges, circuit states, cache hits,
misses and size, in-flight calls — is read from the objects that already keep those numbers
when Prometheus scrapes (:class:`_ServiceCollector`), so no metric code runs inside the logic.
Each server has its own registry: tests and embedded uses never share global state. The
registry (and prometheus-client) is built on first use, not when the server starts: a stdio
server answers ``initialize`` without it (``bench/startup.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from prometheus_client.core import Metric
    from prometheus_client.registry import Collector

    from autodocs.server.lifecycle import Lifecycle
    from autodocs.service import AutoDocsService

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self, lifecycle: Lifecycle, service: Callable[[], AutoDocsService | None]) -> None:
        self._lifecycle = lifecycle
        self._service = service

    @cached_property
    def registry(self) -> CollectorRegistry:
        from prometheus_client import CollectorRegistry

        registry = CollectorRegistry()
        registry.register(_service_collector(self._lifecycle, self._service))
        return registry

    @cached_property
    def tool_calls(self) -> Counter:
        from prometheus_client import Counter

        return Counter(
            "autodocs_tool_calls", "Tool calls by tool and outcome.", ["tool", "outcome"], registry=self.registry
        )

    @cached_property
    def tool_latency(self) -> Histogram:
        from prometheus_client import Histogram

        return Histogram(
            "autodocs_tool_latency_seconds",
            "Tool call latency by tool and outcome.",
            ["tool", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    @cached_property
    def rate_limited(self) -> Counter:
        from prometheus_client import Counter

        return Counter(
            "autodocs_rate_limited_requests", "Tool calls refused by the per-client rate limit.", registry=self.registry
        )

    def observe_call(self, tool: str, outcome: str, seconds: float) -> None:
        self.tool_calls.labels(tool, outcome).inc()
        self.tool_latency.labels(tool, outcome).observe(seconds)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        self._declare()
        return generate_latest(self.registry)

    def _declare(self) -> None:
        """Every metric is listed from the first scrape on, even before its first call."""
        _ = self.tool_calls, self.tool_latency, self.rate_limited

    def snapshot(self) -> dict[str, Any]:
        """The same facts as structured data (the get_metrics tool)."""
        facts: dict[str, Any] = {}
        self._declare()
        for metric in self.registry.collect():
            for sample in metric.samples:
                if sample.name.endswith(("_bucket", "_created")):
                    continue
                label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                facts[f"{sample.name}{{{label}}}" if label else sample.name] = sample.value
        return facts


def _service_collector(lifecycle: Lifecycle, service: Callable[[], AutoDocsService | None]) -> Collector:
    """The collector that reads the service's own counters at scrape time."""
    from prometheus_client.registry import Collector

    class ServiceCollector(Collector):
        def collect(self) -> Iterator[Metric]:
            return _collect_service(lifecycle, service)

    return ServiceCollector()


def _collect_service(lifecycle: Lifecycle, service_of: Callable[[], AutoDocsService | None]) -> Iterator[Metric]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    in_flight = GaugeMetricFamily("autodocs_in_flight_calls", "Tool calls being served now.")
    in_flight.add_metric([], lifecycle.in_flight)
    yield in_flight
    draining = GaugeMetricFamily("autodocs_draining", "1 while the server is shutting down.")
    draining.add_metric([], 1.0 if lifecycle.draining else 0.0)
    yield draining
    service = service_of()
    if service is None:
        return
    fetcher = service.index.fetcher
    upstream = CounterMetricFamily("autodocs_upstream_requests", "Requests to the package index.", labels=["outcome"])
    for outcome, count in sorted(fetcher.outcomes.items()):
        upstream.add_metric([outcome], count)
    yield upstream
    retries = CounterMetricFamily("autodocs_upstream_retries", "Retries scheduled after a failed attempt.")
    retries.add_metric([], fetcher.retries)
    yield retries
    hedges = CounterMetricFamily("autodocs_upstream_hedges", "Second requests racing a silent attempt.")
    hedges.add_metric([], fetcher.hedges_sent)
    yield hedges
    circuit = GaugeMetricFamily(
        "autodocs_circuit_state", "Circuit per index host: 0 closed, 1 half open, 2 open.", labels=["host"]
    )
    for host, state in fetcher.breaker_states().items():
        circuit.add_metric([host], {"closed": 0.0, "half_open": 1.0, "open": 2.0}[state])
    yield circuit
    store = service.store
    hits = CounterMetricFamily("autodocs_cache_hits", "Document lookups answered from memory or the cache store.")
    hits.add_metric([], float(service.cache_hits))
    yield hits
    misses = CounterMetricFamily("autodocs_cache_misses", "Document lookups neither memory nor the store had.")
    misses.add_metric([], float(service.cache_misses))
    yield misses
    size = GaugeMetricFamily("autodocs_cache_size_bytes", "The cache store's size, as get_cache_stats reports it.")
    size.add_metric([], float(store.size_bytes()))
    yield size
    pool = store.pool_facts()
    if pool is not None:
        for key, help_text in (
            ("in_use", "Database connections checked out now."),
            ("idle", "Database connections open and idle now."),
            ("waiting", "Callers waiting for a database connection now."),
            ("max", "Most database connections the pool may open."),
        ):
            gauge = GaugeMetricFamily(f"autodocs_db_pool_{key}", help_text)
            gauge.add_metric([], float(pool[key]))
            yield gauge
        timeouts = CounterMetricFamily("autodocs_db_pool_timeouts", "Checkouts that gave up (DatabaseBusy).")
        timeouts.add_metric([], float(pool["timeouts"]))
        yield timeouts
