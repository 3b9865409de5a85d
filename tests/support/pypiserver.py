"""A real private index server for the tests: pypiserver in its own process, on loopback.

pypiserver serves the Simple API as PEP 503 HTML only (relative links, sha256 fragments, no
PEP 658 files, no yanking), as many private indexes do. Its fallback redirect to the public
index is switched off, so nothing leaves the machine. With ``password``, every listing and
download needs basic auth (an htpasswd file written with passlib).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from passlib.apache import HtpasswdFile

from tests.support.dists import FixtureProject

__all__ = ["PypiServer", "run_pypiserver"]


@dataclass(frozen=True)
class PypiServer:
    port: int
    user: str | None
    password: str | None
    log: Path

    @property
    def simple_url(self) -> str:
        """The Simple API URL, with the credentials in it when the server needs them."""
        userinfo = f"{self.user}:{self.password}@" if self.user else ""
        return f"http://{userinfo}127.0.0.1:{self.port}/simple"


@contextlib.contextmanager
def run_pypiserver(
    folder: Path, projects: list[FixtureProject], *, password: str | None = None
) -> Iterator[PypiServer]:
    packages = folder / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    for project in projects:
        for filename, data in (project.wheel(), project.sdist()):
            (packages / filename).write_bytes(data)
    if password is None:
        auth = ["-P", ".", "-a", "."]
    else:
        htpasswd = HtpasswdFile(str(folder / "htpasswd"), new=True)
        htpasswd.set_password("alice", password)
        htpasswd.save()
        auth = ["-P", str(folder / "htpasswd"), "-a", "list,download,update"]
    port = _free_port()
    log = folder / "pypiserver.log"
    command = [sys.executable, "-m", "pypiserver", "run", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--disable-fallback", *auth, str(packages)]
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    server = PypiServer(port, "alice" if password else None, password, log)
    try:
        _wait_ready(port, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pypiserver exited: {log.read_text()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0, trust_env=False)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"pypiserver did not start within 30 s: {log.read_text()}")
