"""A throwaway PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` in a temp dir, loopback only.

The server listens on a free port on 127.0.0.1 and on a unix socket inside its own folder,
trusts the test user (any password works, so URLs can carry one to test masking), and runs
with durability off (tests never need it). initdb refuses to run as root, so as root every
server command runs as the ``postgres`` user the distribution package creates.

When PostgreSQL is not installed the tests that need it are skipped with the reason, or,
when ``CI`` is set, fail loudly: CI must not go green without them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

__all__ = ["PostgresServer", "find_bin_dir", "free_port", "require_postgres"]

BIN_GLOB = "/usr/lib/postgresql/*/bin"
SERVICE_USER = "postgres"  # the unprivileged account the distribution package creates


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (holding initdb and pg_ctl), if any."""
    found = [Path(path) for path in glob.glob(BIN_GLOB) if (Path(path) / "initdb").exists()]
    if not found:
        return None
    return max(found, key=lambda path: _version_key(path.parent.name))


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def require_postgres() -> Path:
    """The bin folder, or skip (fail when ``CI`` is set) with what to install."""
    problem = None
    bin_dir = find_bin_dir()
    if bin_dir is None:
        problem = f"PostgreSQL is not installed (nothing matches {BIN_GLOB}/initdb); apt-get install postgresql"
    elif os.geteuid() == 0 and not _user_exists(SERVICE_USER):
        problem = f"running as root and there is no {SERVICE_USER!r} user to run initdb as"
    if problem is None:
        assert bin_dir is not None
        return bin_dir
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the PostgreSQL tests cannot run: {problem}.", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {problem}.")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One private server; ``with PostgresServer(bin_dir) as server:`` starts and removes it."""

    user = "autodocs_test"

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="autodocs-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.logfile = self.root / "server.log"
        self.port = free_port()
        self._as_service_user: list[str] = []
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            self._as_service_user = ["runuser", "-u", SERVICE_USER, "--"]
            account = pwd.getpwnam(SERVICE_USER)
            for path in (self.root, self.socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)
        self.running = False

    def __enter__(self) -> PostgresServer:
        try:
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self.user, "-E", "UTF8", "--no-sync")
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "30", "-o", options, "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
        self.running = False

    def remove(self) -> None:
        if self.running:
            with contextlib.suppress(RuntimeError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", *, password: str = "s3cret-pw") -> str:
        """A TCP URL (with a password, which trust auth ignores, so masking can be checked)."""
        return f"postgresql://{self.user}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database's name."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as_service_user, str(self.bin_dir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{log}")
