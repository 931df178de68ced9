"""Local development: `make run`. Debug on, a throwaway key, everything embedded."""

from .base import *  # noqa: F403
from .base import (
    ALLOWED_HOSTS,
    ANYMAIL,
    BASE_URL,
    PORT,
    SECRET_KEY,
    WEBHOOK_ESPS,
    WEBHOOK_ESPS_FROM_ENV,
)

DEBUG = True
# A fixed development key: never used in production, which refuses to start without one.
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"  # nosec B105
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
BASE_URL = BASE_URL or f"http://127.0.0.1:{PORT}"
WAGTAILADMIN_BASE_URL = BASE_URL
# Static files straight from the apps and STATICFILES_DIRS: no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tracking webhooks need basic auth; a fixed pair for local tries only.
ANYMAIL = {"WEBHOOK_SECRET": "dev:dev-webhook", **ANYMAIL}
# Every ESP's routes that can be built, to try them locally, unless told otherwise.
WEBHOOK_ESPS = ["all"] if WEBHOOK_ESPS_FROM_ENV is None else WEBHOOK_ESPS
