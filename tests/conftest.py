import os

import pytest
from django.conf import settings


# First, before pytest-django's sort: it keeps this order within each of its kinds.
@pytest.hookimpl(tryfirst=True)
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
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items[:] = _heaviest_files_first(items)


# Minutes each (the security walks); `make test` hands them out first.
HEAVIEST_FILES = (
    "tests/security/test_url_access.py",
    "tests/security/test_xss_browser.py",
    "tests/security/test_hostile_input.py",
)


def _heaviest_files_first(items):
    """`make test` deals tests to its two workers in collection order: longest
    first, then the files with slow tests, so no walk starts last and keeps one
    worker busy while the other idles. pytest-django then sorts this order, stably,
    into its kinds (plain database tests before transactional ones, which flush the
    database), and xdist keeps that order on each worker."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}

    def rank(item):
        path = item.nodeid.split("::")[0]
        if path in HEAVIEST_FILES:
            return HEAVIEST_FILES.index(path)
        return len(HEAVIEST_FILES) + (item.path not in slow_files)

    return sorted(items, key=rank)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """A group of tests that one worker runs together (xdist_group: a file whose
    module fixture is slow to build) must not span pytest-django's kinds: a
    transactional test in it would empty the database of the plain ones after it."""
    positions = {}
    for index, item in enumerate(session.items):
        for marker in item.iter_markers("xdist_group"):
            positions.setdefault(marker.args[0], []).append(index)
    for group, found in positions.items():
        if found[-1] - found[0] + 1 != len(found):
            raise pytest.UsageError(
                f"xdist_group {group!r} mixes plain and transactional database "
                "tests: give each kind a group of its own"
            )


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, request, tmp_path_factory):
    """pytest-django's, plus a pg_dump of the freshly migrated database when a fault
    test will restore it into a private PostgreSQL cluster (0.3 s instead of a
    20-45 s migrate there). Now or never: later transactional tests flush the rows
    that data migrations made."""
    from tests.faults.conftest import (
        MIGRATED_DUMP,
        can_dump_test_database,
        dump_test_database,
    )

    wanted = any("migrated_dump" in item.fixturenames for item in request.session.items)
    if wanted and can_dump_test_database():
        dump_test_database(tmp_path_factory.getbasetemp() / MIGRATED_DUMP)


def _restore_migrated_data_after(item):
    """Transactional tests flush the database, which also drops what data migrations
    made (role groups, Wagtail's root page and site) for every later test; serialized
    rollback puts it back."""
    marker = item.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        kwargs = {"serialized_rollback": True, **marker.kwargs}
        item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium through Playwright (its own download cannot work here)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes meanwhile are ordinary synchronous ones. Scoped to the test so
    # subprocesses of other tests (check --deploy) never inherit it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    page.set_default_timeout(30_000)
    yield page
    page.close()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's language: a request through the test client
    leaves its language active in the thread (LocaleMiddleware and the admin's
    activate and never deactivate), and code that speaks the caller's language
    (an import's rejection reasons) then answered in the previous test's English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _forget_known_sites():
    """Each test's Sites and pages are its own: a test's transaction is rolled
    back, so the commit that would bump their generations never comes."""
    from home.chrome import forget_chrome
    from home.routing import forget_routes
    from home.signals import forget_deletes
    from home.sites import forget_sites

    forget_sites()
    forget_routes()
    forget_deletes()
    forget_chrome()
    yield
    forget_sites()
    forget_routes()
    forget_deletes()
    forget_chrome()


@pytest.fixture(autouse=True)
def _fresh_confirmation_counts(monkeypatch):
    """Each test counts sender confirmation links from zero: the counters live in
    the cache, which outlives a test's rolled-back transaction, and API tests share
    one owner address. Same limits, counters under a name of the test's own."""
    import dataclasses
    import uuid

    from mailing import senders

    fresh = dataclasses.replace(
        senders.CONFIRMATIONS, name=f"sender-confirmations-{uuid.uuid4().hex}"
    )
    monkeypatch.setattr(senders, "CONFIRMATIONS", fresh)
