"""Settings for pytest. PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set."""

# First: it picks this pytest-xdist worker's Redis database before base.py reads it.
from .xdist_worker import WORKER  # isort: skip
from .base import *  # noqa: F403
from .base import ANYMAIL, HUEY

DEBUG = False
SECRET_KEY = "test-only-key"  # nosec B105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
BASE_URL = "http://testserver"
WAGTAILADMIN_BASE_URL = BASE_URL
# Fast hashing: the suite creates many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run inline in tests unless a test starts a real consumer.
HUEY = {**HUEY, "immediate": True}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Keep uploaded files of the suite out of the project's media folder, one folder per
# pytest-xdist worker: the upload checks count the files there.
MEDIA_ROOT = BASE_DIR / ".test-media" / (WORKER or "main")  # noqa: F405
# Client CSV uploads wait in the checkout too: the default, a folder in /tmp, is
# shared by every checkout's suite on the machine, and the upload checks count it.
CLIENT_IMPORT_DIR = str(MEDIA_ROOT / "client-imports")
# Static files straight from the apps and STATICFILES_DIRS: no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tracking webhooks need basic auth; the suite proves a request without it is refused.
ANYMAIL = {**ANYMAIL, "WEBHOOK_SECRET": "test:webhook-secret"}
# Every ESP's routes that can be built without keys, as the URL walks expect them.
WEBHOOK_ESPS = ["all"]
# No throttling and quick retries unless a test asks for them.
SENDING_RATE_PER_OWNER = 0
SENDING_RATE_GLOBAL = 0
SENDING_RETRY_BACKOFF = 0.05
