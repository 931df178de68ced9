import re

import pytest
from django.core.cache import cache

LINK = re.compile(r"http://testserver(/\S+)")


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters and resend limits live in the cache: start each test clean.
    cache.clear()
    yield
    cache.clear()


def path_in(message) -> str:
    """The first site link in an email's plain-text part."""
    match = LINK.search(message.body)
    assert match, f"no link in: {message.body}"
    return match.group(1)
