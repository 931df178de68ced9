"""/healthz/: is this instance able to serve? For load balancers and uptime checks."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from huey.contrib.djhuey import HUEY

logger = logging.getLogger(__name__)


def _database() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _cache() -> bool:
    # django-redis swallows errors (IGNORE_EXCEPTIONS), so write and read back.
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    ok = cache.get(key) == "1"
    cache.delete(key)
    return ok


def _queue() -> bool:
    HUEY.storage.queue_size()
    return True


CHECKS = {"database": _database, "cache": _cache, "queue": _queue}


def _run(check) -> bool:
    try:
        return check()
    except Exception:  # noqa: BLE001 - any failure means "down", and is logged
        logger.exception("health check %s failed", check.__name__)
        return False


@never_cache
def healthz(request):
    states = {name: "up" if _run(check) else "down" for name, check in CHECKS.items()}
    healthy = all(state == "up" for state in states.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": states},
        status=200 if healthy else 503,
    )
