"""Private Redis and PostgreSQL instances to break on purpose.

Faults are injected into servers these fixtures start on free ports, never into
the shared services other tests use. PostgreSQL refuses to run as root, so as root
the cluster runs as the `postgres` OS user (runuser) in a directory it owns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess  # nosec B404 - starts local server binaries, no shell
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.mailing.smtp_servers import pipelining  # noqa: F401 - both server kinds
from tests.security.conftest import world  # noqa: F401 - the shared users and objects

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, up: bool = True, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            listening = probe.connect_ex(("127.0.0.1", port)) == 0
        if listening == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not go {'up' if up else 'down'}")


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # nosec B603 - fixed argv
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        wait_for_port(self.port, up=False)

    def pause(self) -> None:
        """Hung, not dead: the port accepts, nothing answers (SIGSTOP)."""
        self.process.send_signal(19)

    def resume(self) -> None:
        self.process.send_signal(18)


@pytest.fixture
def private_redis():
    if not REDIS_SERVER:
        pytest.skip("needs redis-server: apt-get install redis-server")
    redis = PrivateRedis()
    redis.start()
    yield redis
    if redis.process and redis.process.poll() is None:
        redis.resume()
        redis.stop()


class PrivatePostgres:
    def __init__(self, directory: Path):
        self.dir = directory
        self.data = directory / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.as_postgres = (
            ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        )

    def _run(self, *argv: str) -> None:
        subprocess.run(  # nosec B603 - fixed argv
            [*self.as_postgres, *argv], check=True, capture_output=True, timeout=120
        )

    def init(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                  "-U", "postgres", "--no-sync")  # fmt: skip

    def pg_ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        )
        log = str(self.dir / "server.log")
        self._run(str(PG_BIN / "pg_ctl"), action, "-D", str(self.data), "-w",
                  "-l", log, "-o", options, *extra)  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")
        wait_for_port(self.port)

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self.pg_ctl("restart", "-m", "fast")
        wait_for_port(self.port)

    def restore(self, dump: Path) -> None:
        """Load a pg_dump of the migrated test database: what `migrate` would build."""
        subprocess.run(  # nosec B603 - fixed argv
            [str(PG_BIN / "pg_restore"), "--no-owner", "--no-privileges",
             "--exit-on-error", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", "postgres", str(dump)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip


def dump_test_database(target: Path) -> None:
    """pg_dump of the test database (custom format), for PrivatePostgres.restore."""
    database = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": database.get("PASSWORD") or ""}
    subprocess.run(  # nosec B603 - fixed argv
        [str(PG_BIN / "pg_dump"), "-Fc", "-f", str(target),
         "-h", database.get("HOST") or "127.0.0.1",
         "-p", str(database.get("PORT") or 5432),
         "-U", database.get("USER") or "postgres", database["NAME"]],
        check=True, capture_output=True, timeout=120, env=env,
    )  # fmt: skip


def can_dump_test_database() -> bool:
    """PostgreSQL, and pytest-django made a test database (only for django_db tests)."""
    database = settings.DATABASES["default"]
    return (
        (PG_BIN / "pg_dump").exists()
        and database["ENGINE"].endswith("postgresql")
        and database["NAME"].startswith("test_")
    )


MIGRATED_DUMP = "migrated-test-database.dump"


@pytest.fixture(scope="session")
def migrated_dump(django_db_setup, tmp_path_factory) -> Path | None:
    """The dump tests/conftest.py took right after the test database was migrated
    (None without PostgreSQL: then the private cluster is migrated instead)."""
    path = tmp_path_factory.getbasetemp() / MIGRATED_DUMP
    return path if path.exists() else None


@pytest.fixture(scope="module")
def private_postgres():
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"needs PostgreSQL 15 server binaries in {PG_BIN}")
    directory = Path(tempfile.mkdtemp(prefix="vestnik-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = PrivatePostgres(directory)
    server.init()
    server.start()
    yield server
    try:
        server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
