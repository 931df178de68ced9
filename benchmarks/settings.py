"""Production settings plus one trivial view, for `make bench` only.

Production itself is untouched: only this module adds the /bench/ok/ URL and
benchmarks.middleware (a request may mark its page changed).
"""

from site_config.settings.production import *  # noqa: F403
from site_config.settings.production import MIDDLEWARE, PAGE_CACHE_SKIP_PREFIXES

ROOT_URLCONF = "benchmarks.urls"
# The trivial view is not a page: like every non-page URL it skips the page cache.
PAGE_CACHE_SKIP_PREFIXES = [*PAGE_CACHE_SKIP_PREFIXES, "/bench/"]
# Before the page cache: a request may first mark its page changed (a miss).
MIDDLEWARE = ["benchmarks.middleware.PageChangedMiddleware", *MIDDLEWARE]
