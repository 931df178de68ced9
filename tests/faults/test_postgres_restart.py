"""PostgreSQL restarts under a running server: no error page once it is back.

gunicorn serves the project over a private PostgreSQL cluster (initdb) with
persistent connections (CONN_MAX_AGE). A restart kills every connection the worker
threads hold; CONN_HEALTH_CHECKS must notice and reconnect, so the first request
after the restart already gets a page instead of "server closed the connection".
"""

from __future__ import annotations

import os
import subprocess  # nosec B404 - starts this project's server, no shell
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from tests.faults.conftest import free_port, wait_for_port

# django_db: pytest-django then creates the test database, whose dump the private
# cluster restores (tests/faults/conftest.py migrated_dump); the tests use no ORM.
# One worker builds the server below once (make test: --dist loadgroup).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db,
    pytest.mark.xdist_group("postgres_restart"),
]

PATHS = ["/", "/en/", "/healthz/"]
THREADS = 4


def fetch(base: str, path: str) -> int:
    try:
        with urllib.request.urlopen(base + path, timeout=10) as response:  # nosec B310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0  # connection refused or reset: the server itself is down


@pytest.fixture(scope="module")
def server(private_postgres, migrated_dump):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(
        DJANGO_SETTINGS_MODULE="site_config.settings.test",
        DATABASE_URL=private_postgres.url,
        CONN_MAX_AGE="600",
    )
    if migrated_dump:
        private_postgres.restore(migrated_dump)
    else:
        subprocess.run(  # nosec B603 - fixed argv
            [sys.executable, "manage.py", "migrate", "--noinput"], check=True,
            cwd=settings.BASE_DIR, env=env, capture_output=True, timeout=600,
        )  # fmt: skip
    port = free_port()
    process = subprocess.Popen(  # nosec B603 - fixed argv
        [sys.executable, "-m", "gunicorn", "site_config.wsgi", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--threads", str(THREADS)],
        cwd=settings.BASE_DIR, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, timeout=60)
        # The worker imports Django on its first request: wait until it answers.
        deadline = time.monotonic() + 120
        while fetch(base, "/healthz/") != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(20)


def hammer(base: str, stop: threading.Event, statuses: list[int]) -> None:
    while not stop.is_set():
        for path in PATHS:
            statuses.append(fetch(base, path))


def test_no_error_page_after_postgresql_restarts_under_load(server, private_postgres):
    # Every worker thread opens its persistent connection.
    warm = [fetch(server, path) for _ in range(THREADS * 3) for path in PATHS]
    assert set(warm) == {200}, warm

    during: list[int] = []
    stop = threading.Event()
    workers = [
        threading.Thread(target=hammer, args=(server, stop, during)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    private_postgres.restart()  # pg_ctl restart -m fast: every connection is killed
    stop.set()
    for worker in workers:
        worker.join()

    after = [fetch(server, path) for _ in range(THREADS * 5) for path in PATHS]
    print(
        f"fault injected: PostgreSQL restarted (pg_ctl restart -m fast) under "
        f"{len(workers)} clients; requests during the restart: {len(during)} "
        f"(non-200: {sum(s != 200 for s in during)}); after: {len(after)} requests, "
        f"non-200: {sum(s != 200 for s in after)}"
    )
    assert set(after) == {200}, after


def test_idle_persistent_connections_survive_a_restart(server, private_postgres):
    """No traffic during the restart: every thread holds a dead connection after it.

    Without CONN_HEALTH_CHECKS the first request on each of them is a 500.
    """
    warm = [fetch(server, path) for _ in range(THREADS * 3) for path in PATHS]
    assert set(warm) == {200}, warm

    private_postgres.restart()
    after = [fetch(server, path) for _ in range(THREADS * 3) for path in PATHS]
    print(
        f"fault injected: PostgreSQL restarted while idle; after: {len(after)} "
        f"requests, non-200: {sum(s != 200 for s in after)}"
    )
    assert set(after) == {200}, after
