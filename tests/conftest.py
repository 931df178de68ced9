import os

import pytest
from django.conf import settings


def pytest_collection_modifyitems(config, items):
    """Skip tests whose real component is not configured, saying how to get it."""
    reasons = {
        "postgres": (
            settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
            "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/vestnik",
        ),
        "redis": (
            bool(settings.REDIS_URL),
            "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0",
        ),
        "e2e": (
            os.path.exists(CHROMIUM),
            f"needs Debian's Chromium at {CHROMIUM}: apt-get install chromium",
        ),
    }
    for item in items:
        _restore_migrated_data_after(item)
        for marker, (available, reason) in reasons.items():
            if marker in item.keywords and not available:
                item.add_marker(pytest.mark.skip(reason=reason))


CHROMIUM = "/usr/bin/chromium"


def _restore_migrated_data_after(item):
    """Transactional tests flush the database, which also drops what data migrations
    made (role groups, Wagtail's root page and site) for every later test; serialized
    rollback puts it back."""
    marker = item.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        kwargs = {"serialized_rollback": True, **marker.kwargs}
        item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)
