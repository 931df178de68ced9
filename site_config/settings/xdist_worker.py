"""One Redis database per pytest-xdist worker, chosen before base.py reads REDIS_URL.

`make test` runs the suite in two worker processes. pytest-django gives each its own
test database (test_<name>_gw0, ...); Redis needs the same, or one worker's page
cache, counters, rate limits and Huey queue meet the other's (a consumer started by
one worker's test would take the other worker's tasks). Only the environment says
which worker this is (xdist sets PYTEST_XDIST_WORKER before pytest-django imports
the settings), and base.py builds the cache and Huey from REDIS_URL at import, so
test.py imports this module first. It rewrites REDIS_URL in the environment, where
the consumers and manage.py runs a test starts find it too; a marker keeps such a
child (which inherits PYTEST_XDIST_WORKER) from moving it a second time.
https://pytest-xdist.readthedocs.io/en/stable/how-to.html#identifying-the-worker-process-during-a-test
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

# "gw0", "gw1", ...; empty when pytest runs in one process.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
MOVED_FOR = "VESTNIK_REDIS_URL_WORKER"


def worker_redis_url(url: str, worker: str) -> str:
    """The configured database plus the worker's index: /6 -> gw0 /6, gw1 /7."""
    parts = urlsplit(url)
    database = parts.path.strip("/") or "0"
    if parts.query or not database.isdigit():
        raise ImproperlyConfigured(
            f"pytest-xdist workers need REDIS_URL as redis://host:port/db, not {url}"
        )
    moved = int(database) + int(worker.removeprefix("gw"))
    return parts._replace(path=f"/{moved}").geturl()


def use_worker_redis_database() -> None:
    # base.py reads .env the same way (never over the environment): a REDIS_URL
    # kept there must move too.
    environ.Env.read_env(Path(__file__).resolve().parents[2] / ".env")
    url = os.environ.get("REDIS_URL", "")
    if WORKER and url and os.environ.get(MOVED_FOR) != WORKER:
        os.environ["REDIS_URL"] = worker_redis_url(url, WORKER)
        os.environ[MOVED_FOR] = WORKER


use_worker_redis_database()
