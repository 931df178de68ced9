"""`make test` runs the suite on two pytest-xdist workers. Each must use its own Redis
database (cache, counters, Huey's queue), and so must every process its tests start:
the settings are read in fresh interpreters here, as a worker and its children do."""

import json
import os
import subprocess  # nosec B404 - runs this project's Python, no shell
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SHOW_SETTINGS = """
import json, os
from django.conf import settings
pool = settings.HUEY.get("connection_pool")
print(json.dumps(dict(
    redis_url=settings.REDIS_URL,
    cache=settings.CACHES["default"].get("LOCATION"),
    huey_db=pool.connection_kwargs["db"] if pool else None,
    media_root=str(settings.MEDIA_ROOT),
    # What it passes on to the processes it starts.
    environ=dict((k, v) for k, v in os.environ.items()
                 if k == "REDIS_URL" or k.startswith("VESTNIK_")),
)))
"""


def settings_of(**environment) -> dict:
    """The test settings as a process started with these variables sees them."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "PYTEST_XDIST_WORKER")
        and not key.startswith("VESTNIK_")
    }
    env.update(DJANGO_SETTINGS_MODULE="site_config.settings.test", **environment)
    result = subprocess.run(  # nosec B603 - fixed argv
        [sys.executable, "-c", SHOW_SETTINGS],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_each_worker_has_its_own_redis_database():
    url = "redis://127.0.0.1:6379/3"
    first = settings_of(REDIS_URL=url, PYTEST_XDIST_WORKER="gw0")
    second = settings_of(REDIS_URL=url, PYTEST_XDIST_WORKER="gw1")

    assert (first["redis_url"], first["cache"], first["huey_db"]) == (url, url, 3)
    moved = "redis://127.0.0.1:6379/4"
    assert (second["redis_url"], second["cache"], second["huey_db"]) == (
        moved,
        moved,
        4,
    )
    assert first["media_root"] != second["media_root"]


def test_a_process_a_worker_starts_keeps_the_workers_database():
    worker = settings_of(
        REDIS_URL="redis://127.0.0.1:6379/3", PYTEST_XDIST_WORKER="gw1"
    )
    child = settings_of(PYTEST_XDIST_WORKER="gw1", **worker["environ"])

    assert child["redis_url"] == child["cache"] == "redis://127.0.0.1:6379/4"
    assert child["media_root"] == worker["media_root"]


def test_one_process_run_keeps_the_configured_database():
    alone = settings_of(REDIS_URL="redis://127.0.0.1:6379/3")

    assert alone["redis_url"] == "redis://127.0.0.1:6379/3"


def test_workers_without_redis_keep_the_embedded_defaults():
    worker = settings_of(PYTEST_XDIST_WORKER="gw1")

    assert worker["redis_url"] == ""
    assert worker["huey_db"] is None


def test_a_redis_url_the_workers_cannot_split_is_refused():
    from site_config.settings.xdist_worker import worker_redis_url

    with pytest.raises(ImproperlyConfigured):
        worker_redis_url("unix:///run/redis.sock?db=2", "gw1")
