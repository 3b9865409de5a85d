"""A loopback fake of the package index's JSON API, with byte-level fault injection.

Hand-written on purpose: tests and benchmarks need a real HTTP/1.1 server (keep-alive, exact
``Content-Length``, many concurrent connections) that can also misbehave on the wire on command
from the test thread: hang, reset the connection, cut a body short, drip it slowly. Transport
mocks (respx and the like) involve no socket, and ready-made test servers cannot break the
protocol mid-response, so no library fits. The standard library's threading HTTP server is the
base; every answer is written by hand from bytes preloaded from ``tests/data/index``.

In process (pytest)::

    with FakeIndex(latency_s=0.01) as index:
        index.set_fault(Fault.status(503), path_contains="/requests/", times=2)
        ...  # point the client at index.url

As a separate process (benchmarks), from the repository root::

    python -m tests.support.fake_index --latency-ms 20 --fault-mix '{"429": 0.1, "reset": 0.05}'

prints ``READY http://127.0.0.1:PORT/pypi`` once listening and serves until SIGTERM/SIGINT, or
until its stdin closes when stdin is a pipe. ``GET /_stats`` returns the request counters.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import socket
import socketserver
import ssl
import stat
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.client import responses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote

from tests.support.dists import FixtureProject
from tests.support.fake_simple import Modes, SimpleRegistry

__all__ = ["DEFAULT_DATA_DIR", "FakeIndex", "Fault", "main", "mix_fault", "normalize"]

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "index"
INVALID_BASE = "https://index.invalid"
NOT_FOUND = b'{"message": "Not Found"}'
_ROUTE = re.compile(r"^/pypi/(?P<name>[^/]+)/(?:(?P<version>[^/]+)/)?json$")
_Headers = tuple[tuple[str, str], ...]


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Fault:
    """One way for the server to misbehave. Build with the class methods, not directly."""

    kind: str
    code: int = 200
    seconds: float = 0.0
    data: bytes = b""
    headers: _Headers = ()
    chunk: int = 0

    @classmethod
    def status(cls, code: int, *, retry_after: str | float | None = None) -> Fault:
        """Answer ``code`` with a small JSON body; ``retry_after`` (seconds or HTTP-date) sets Retry-After."""
        headers: _Headers = () if retry_after is None else (("Retry-After", str(retry_after)),)
        body = json.dumps({"message": responses.get(code, "Error")}).encode()
        return cls("status", code=code, data=body, headers=headers)

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        """Wait ``seconds`` more, then answer normally."""
        return cls("latency", seconds=seconds)

    @classmethod
    def hang(cls) -> Fault:
        """Read the request and never answer, until the server stops or the client goes away."""
        return cls("hang")

    @classmethod
    def hang_then_close(cls, seconds: float) -> Fault:
        """Read the request, wait ``seconds``, then close the connection without an answer."""
        return cls("hang_then_close", seconds=seconds)

    @classmethod
    def reset(cls) -> Fault:
        """Close abruptly (SO_LINGER 0): the client sees a connection reset."""
        return cls("reset")

    @classmethod
    def truncated(cls) -> Fault:
        """Send the headers with the full Content-Length but only half of the body, then close."""
        return cls("truncated")

    @classmethod
    def invalid_json(cls) -> Fault:
        """Answer 200 ``application/json`` with a body that is not JSON."""
        return cls("invalid_json", code=200, data=b'{"info": {"name": <html>Service Unavailable</html>')

    @classmethod
    def slow_drip(cls, bytes_per_chunk: int, interval_s: float) -> Fault:
        """Send the normal answer's body ``bytes_per_chunk`` at a time, ``interval_s`` apart."""
        return cls("slow_drip", chunk=max(1, bytes_per_chunk), seconds=interval_s)

    @classmethod
    def body(cls, status: int, data: bytes, headers: Mapping[str, str] | None = None) -> Fault:
        """Answer anything. Content-Type/Content-Length default to JSON and ``len(data)``."""
        return cls("body", code=status, data=data, headers=tuple((headers or {}).items()))


@dataclass
class _Rule:
    fault: Fault
    path_contains: str | None
    times: int | None
    probability: float


_MIX_FAULTS: dict[str, Callable[[], Fault]] = {
    "hang": Fault.hang,
    "reset": Fault.reset,
    "truncated": Fault.truncated,
    "invalid_json": Fault.invalid_json,
    "slow_drip": lambda: Fault.slow_drip(4096, 0.02),  # about 200 kB/s
}


def mix_fault(key: str) -> Fault:
    """The fault a ``--fault-mix`` key stands for: a status code ("429" adds Retry-After: 1), a
    name, ``hang:SECONDS`` (silent that long, then the connection closes) or ``latency:SECONDS``."""
    kind, _, seconds = key.partition(":")
    if seconds:
        timed = {"hang": Fault.hang_then_close, "latency": Fault.latency}
        if kind not in timed:
            raise ValueError(f"unknown timed fault-mix key {key!r}; use hang:SECONDS or latency:SECONDS")
        return timed[kind](float(seconds))
    if key.isdigit():
        return Fault.status(int(key), retry_after="1" if key == "429" else None)
    if key not in _MIX_FAULTS:
        raise ValueError(f"unknown fault-mix key {key!r}; use a status code or one of {sorted(_MIX_FAULTS)}")
    return _MIX_FAULTS[key]()


class FakeIndex:
    """The fake index server. Use as a context manager, or call :meth:`start` and :meth:`stop`."""

    def __init__(
        self,
        data_dir: Path | None = None,
        latency_s: float = 0.0,
        seed: int = 0,
        *,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.latency_s = latency_s  # every answer leaves this long after its request arrived; may change
        self._port = port
        self._tls = tls  # serve HTTPS with this server context
        self.connections = 0  # connections accepted (TLS ones count before their handshake)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._log: list[tuple[str, str]] = []
        self._last_headers: dict[str, str] = {}
        self._header_log: list[dict[str, str]] = []
        self._by_path: Counter[str] = Counter()
        self._projects: dict[str, bytes] = {}
        self._versions: dict[tuple[str, str], bytes] = {}
        self._parsed: dict[str, dict[str, Any]] = {}
        self._synth: dict[tuple[str, str], bytes] = {}
        self._files: dict[str, bytes] = {}
        self._conns: set[socket.socket] = set()
        self.registry = SimpleRegistry()  # releases with real files: Simple API, PEP 658, ranges
        self._hanging = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._load(DEFAULT_DATA_DIR if data_dir is None else Path(data_dir))

    # -- data -------------------------------------------------------------------------------

    def _load(self, root: Path) -> None:
        for path in sorted((root / "projects").glob("*.json")):
            self._projects[normalize(path.name[:-5])] = path.read_bytes()
        for path in sorted((root / "versions").glob("*/*.json")):
            self._versions[(normalize(path.parent.name), path.name[:-5])] = path.read_bytes()

    def add_project(self, name: str, data: dict[str, Any]) -> None:
        """Serve ``data`` as the project document of ``name`` (replacing any recorded one)."""
        key = normalize(name)
        with self._lock:
            self._projects[key] = json.dumps(data).encode()
            self._parsed.pop(key, None)
            self._synth = {k: v for k, v in self._synth.items() if k[0] != key}

    def add_file(self, filename: str, data: bytes) -> str:
        """Serve ``data`` at ``/files/{filename}`` (a wheel or sdist); returns its URL."""
        with self._lock:
            self._files[filename] = data
        return f"http://127.0.0.1:{self.port}/files/{filename}"

    def add_version(self, name: str, version: str, data: dict[str, Any]) -> None:
        """Serve ``data`` as the per-version document of ``name`` ``version``."""
        with self._lock:
            self._versions[(normalize(name), version)] = json.dumps(data).encode()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.owner = self
        if self._tls is not None:  # the handshake runs in the handler's thread, on its first read
            server.socket = self._tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-index", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; releases hung handlers and idle keep-alive connections at once."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            _shutdown(conn)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def go_down(self) -> None:
        """Stop listening, so that connections are refused, and drop the open ones; the port is kept."""
        self._port = self.port
        self.stop()

    def come_back(self) -> None:
        """Listen again on the same port, after :meth:`go_down`."""
        self.start()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeIndex is not running")
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self.port}/pypi"

    @property
    def simple_url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self.port}/simple"

    @property
    def _scheme(self) -> str:
        return "http" if self._tls is None else "https"

    @property
    def modes(self) -> Modes:
        """What the index serves for the registry's releases (Simple API, PEP 658, ranges, pages)."""
        return self.registry.modes

    # -- counters and faults ----------------------------------------------------------------

    @property
    def hanging(self) -> int:
        """Requests held unanswered right now (hang faults) whose client has not gone away."""
        with self._lock:
            return self._hanging

    @property
    def open_connections(self) -> int:
        """Client connections open right now (a keep-alive one stays until its client closes it)."""
        with self._lock:
            return len(self._conns)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._log)

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far, in arrival order (``/_stats`` excluded)."""
        with self._lock:
            return list(self._log)

    def last_headers(self) -> dict[str, str]:
        """Headers of the latest counted request, names lower-cased."""
        with self._lock:
            return dict(self._last_headers)

    def count(self, path_substring: str) -> int:
        with self._lock:
            return sum(1 for _, path in self._log if path_substring in path)

    def seen_headers(self, name: str) -> list[str | None]:
        """The value of header ``name`` (lower case) in every counted request, in order."""
        with self._lock:
            return [headers.get(name) for headers in self._header_log]

    def reset_counts(self) -> None:
        """Forget counted requests only (faults and modes stay)."""
        with self._lock:
            self._log.clear()
            self._header_log.clear()
            self._by_path.clear()

    def reset(self) -> None:
        """Forget counted requests, fault rules and the registry's releases; serve every source
        again (added documents stay)."""
        with self._lock:
            self.registry = SimpleRegistry()
            self._log.clear()
            self._header_log.clear()
            self._by_path.clear()
            self._rules.clear()

    def set_fault(
        self,
        fault: Fault,
        *,
        path_contains: str | None = None,
        times: int | None = None,
        probability: float = 1.0,
    ) -> None:
        """Add a rule. The first matching rule whose draw fires and whose budget is left applies."""
        with self._lock:
            self._rules.append(_Rule(fault, path_contains, times, probability))

    def set_fault_mix(self, mix: Mapping[str, float]) -> None:
        """Rules so that each key's fault hits that fraction of requests (fractions sum <= 1)."""
        if sum(mix.values()) > 1.0 + 1e-9:
            raise ValueError("fault-mix probabilities add up to more than 1")
        remaining = 1.0
        for key, share in mix.items():
            fault = mix_fault(key)
            self.set_fault(fault, probability=min(1.0, share / remaining) if remaining > 0 else 0.0)
            remaining -= share

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    def _pick_fault(self, path: str) -> Fault | None:  # called with the lock held
        for rule in self._rules:
            if rule.path_contains is not None and rule.path_contains not in path:
                continue
            if rule.times is not None and rule.times <= 0:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.times is not None:
                rule.times -= 1
            return rule.fault
        return None

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if not add:
                self._conns.discard(conn)
            elif self._stopping.is_set():
                _shutdown(conn)
            else:
                self.connections += 1
                self._conns.add(conn)

    # -- answering --------------------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        route = h.path.split("?", 1)[0]
        if route == "/_stats":
            with self._lock:
                stats = {"requests": len(self._log), "by_path": dict(self._by_path)}
            self._send(h, 200, json.dumps(stats).encode())
            return
        headers = {key.lower(): value for key, value in h.headers.items()}
        with self._lock:
            self._log.append((h.command, h.path))
            self._header_log.append(headers)
            self._last_headers = headers
            self._by_path[route] += 1
            fault = self._pick_fault(route)
        delay = self.latency_s + (fault.seconds if fault is not None and fault.kind == "latency" else 0.0)
        # Latency counts from the request's arrival: this server's own parsing is inside it,
        # not added to it (the index it stands for answers ``delay`` after a request arrives).
        delay -= time.monotonic() - h.arrived
        if delay > 0 and self._stopping.wait(delay):
            h.close_connection = True
            return
        if fault is None or fault.kind == "latency":
            self._send(h, *self._route(route, headers))
        elif fault.kind in ("status", "body", "invalid_json"):
            self._send(h, fault.code, fault.data, fault.headers)
        elif fault.kind in ("hang", "hang_then_close"):
            self._hang(h, None if fault.kind == "hang" else fault.seconds)
        elif fault.kind == "reset":
            h.close_connection = True
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
        elif fault.kind == "truncated":
            h.close_connection = True
            status, body, extra = self._route(route, headers)
            h.wfile.write(self._head(h, status, len(body), extra) + body[: len(body) // 2])
        elif fault.kind == "slow_drip":
            status, body, extra = self._route(route, headers)
            h.wfile.write(self._head(h, status, len(body), extra))
            for start in range(0, len(body), fault.chunk):
                if start and self._stopping.wait(fault.seconds):
                    h.close_connection = True
                    return
                h.wfile.write(body[start : start + fault.chunk])

    def _route(self, route: str, headers: dict[str, str]) -> tuple[int, bytes, _Headers]:
        if (answer := self.registry.answer(unquote(route), headers)) is not None:
            return answer
        if route.startswith("/files/"):
            data = self._files.get(unquote(route[len("/files/") :]))
            return (404, NOT_FOUND, ()) if data is None else (200, data, (("Content-Type", "application/zip"),))
        match = _ROUTE.match(route)
        if match is None:
            return 404, NOT_FOUND, ()
        name = unquote(match["name"])
        version = None if match["version"] is None else unquote(match["version"])
        key = normalize(name)
        if name != key:
            tail = "json" if version is None else f"{version}/json"
            return 301, b"", (("Location", f"/pypi/{key}/{tail}"),)
        if version is None:
            project = self._projects.get(key)
            return (404, NOT_FOUND, ()) if project is None else (200, project, ())
        doc = self._versions.get((key, version)) or self._synthesize(key, version)
        return (404, NOT_FOUND, ()) if doc is None else (200, doc, ())

    def _synthesize(self, key: str, version: str) -> bytes | None:
        if (cached := self._synth.get((key, version))) is not None:
            return cached
        if (project := self._parsed.get(key)) is None:
            if (raw := self._projects.get(key)) is None:
                return None
            project = self._parsed[key] = json.loads(raw)
        if version not in (releases := project.get("releases") or {}):
            return None
        files: list[dict[str, Any]] = releases[version] or []
        first = files[0] if files else {}
        info = dict(project.get("info") or {})
        info["version"] = version
        info["yanked"] = bool(first.get("yanked", False))
        info["yanked_reason"] = first.get("yanked_reason")
        info["requires_python"] = first.get("requires_python")
        info["release_url"] = f"{INVALID_BASE}/project/{key}/{version}/"
        doc = {"info": info, "last_serial": project.get("last_serial"), "urls": files}
        data = self._synth[(key, version)] = json.dumps(doc).encode()
        return data

    @staticmethod
    def _head(h: _Handler, status: int, length: int, headers: _Headers) -> bytes:
        names = {k.lower() for k, _ in headers}
        lines = [f"HTTP/1.1 {status} {responses.get(status, 'Unknown')}"]
        if "content-type" not in names:
            lines.append("Content-Type: application/json")
        if "content-length" not in names:
            lines.append(f"Content-Length: {length}")
        lines.extend(f"{k}: {v}" for k, v in headers)
        if h.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(self, h: _Handler, status: int, body: bytes, headers: _Headers = ()) -> None:
        h.wfile.write(self._head(h, status, len(body), headers) + body)

    def _hang(self, h: _Handler, seconds: float | None) -> None:
        """Keep the connection open without answering; drop it on stop, client close or timeout."""
        h.close_connection = True
        with self._lock:
            self._hanging += 1
        try:
            self._hang_until_gone(h.connection, seconds)
        finally:
            with self._lock:
                self._hanging -= 1

    def _hang_until_gone(self, sock: socket.socket, seconds: float | None) -> None:
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self._stopping.is_set():
            wait = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if wait <= 0:
                return
            sock.settimeout(wait)
            try:
                if not sock.recv(65536):
                    return  # the client closed its end
            except TimeoutError:
                continue
            except OSError:
                return


def _shutdown(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() releases handlers itself; never wait on a hung one
    request_queue_size = 1024  # bursts of 100+ connects must not overflow the listen backlog
    owner: FakeIndex

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip HTTPServer's slow reverse DNS lookup
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # client gone: not worth a traceback
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server
    arrived = 0.0  # time.monotonic() when the current request's first line was read

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def parse_request(self) -> bool:
        self.arrived = time.monotonic()  # the request line is in; the headers are parsed next
        return super().parse_request()

    def do_GET(self) -> None:
        try:
            self.server.owner._handle(self)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _watch_stdin(done: threading.Event) -> None:
    with contextlib.suppress(OSError):
        while os.read(0, 65536):
            pass
    done.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_index", description=__doc__)
    parser.add_argument("--data", type=Path, default=None, help="recorded data (default: tests/data/index)")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS choose")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="each answer leaves this long after its request arrived"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fault-mix", default=None, help='e.g. \'{"429": 0.2, "503": 0.1, "reset": 0.05}\'')
    parser.add_argument(
        "--fixture-packages", type=int, default=0, help="serve N generated packages (3 versions each) with real files"
    )
    parser.add_argument("--modes", default="", help="registry modes to switch off, e.g. json_api,pep658")
    parser.add_argument(
        "--fixture-padding", type=int, default=0, help="bytes stored after each fixture wheel's METADATA"
    )
    parser.add_argument(
        "--outage", default=None, metavar="START:SECONDS", help="refuse connections from START s after READY, that long"
    )
    args = parser.parse_args(argv)

    index = FakeIndex(args.data, latency_s=args.latency_ms / 1000.0, seed=args.seed, port=args.port)
    if args.fault_mix:
        index.set_fault_mix({str(k): float(v) for k, v in json.loads(args.fault_mix).items()})
    for number in range(args.fixture_packages):
        for version in ("1.0.0", "1.1.0", "2.0.0"):
            index.registry.add(FixtureProject(f"fixture-{number:03d}", version, tail_padding=args.fixture_padding))
    for mode in filter(None, args.modes.split(",")):
        setattr(index.modes, mode.strip(), False)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:  # only a pipe counts: stdin=DEVNULL (or a terminal) must not end the server
        if stat.S_ISFIFO(os.fstat(0).st_mode) or stat.S_ISSOCK(os.fstat(0).st_mode):
            threading.Thread(target=_watch_stdin, args=(done,), daemon=True).start()
    except OSError:
        pass
    with index:
        print(f"READY {index.url}", flush=True)
        if args.outage:
            start, length = (float(part) for part in args.outage.split(":"))
            for delay, action in ((start, index.go_down), (start + length, index.come_back)):
                timer = threading.Timer(delay, action)
                timer.daemon = True
                timer.start()
        while not done.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
