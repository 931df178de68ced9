"""Production: secrets come from the environment, and a missing one stops the start.

Checked by `DJANGO_SETTINGS_MODULE=site_config.settings.production manage.py check
--deploy --fail-level WARNING`. https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
"""

from django.core.exceptions import ImproperlyConfigured

from site_config.email_env import refuse_plaintext

from .base import *  # noqa: F403
from .base import (
    ALLOWED_HOSTS,
    ANYMAIL,
    BASE_URL,
    BEHIND_TLS_PROXY,
    EMAIL_ALLOW_PLAINTEXT,
    EMAIL_BACKEND,
    EMAIL_HOST,
    EMAIL_USE_SSL,
    EMAIL_USE_TLS,
    SECRET_KEY,
    SECURE_SSL_REDIRECT_FROM_ENV,
    WEBHOOK_ESPS,
)

_missing = [
    name
    for name, value in (
        ("SECRET_KEY", SECRET_KEY),
        ("ALLOWED_HOSTS", ALLOWED_HOSTS),
        ("BASE_URL", BASE_URL),
    )
    if not value
]
# Webhooks fail closed: routes without basic auth would let anyone forge a bounce
# or an unsubscribe. They are wanted for WEBHOOK_ESPS (by default the ESP that
# sends); over SMTP with none wanted, none is mounted (mailing/webhooks.py).
if WEBHOOK_ESPS and not ANYMAIL.get("WEBHOOK_SECRET"):
    _missing.append("ANYMAIL_WEBHOOK_SECRET")
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

# The password and every email would cross the network readable.
refuse_plaintext(
    {
        "EMAIL_BACKEND": EMAIL_BACKEND,
        "EMAIL_HOST": EMAIL_HOST,
        "EMAIL_USE_TLS": EMAIL_USE_TLS,
        "EMAIL_USE_SSL": EMAIL_USE_SSL,
    },
    EMAIL_ALLOW_PLAINTEXT,
)

DEBUG = False
CSRF_TRUSTED_ORIGINS = [BASE_URL]

# Static files with hashed names, compressed, served by WhiteNoise.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# HTTPS everywhere. Turn SECURE_SSL_REDIRECT off where TLS ends at a proxy that
# already redirects (and set BEHIND_TLS_PROXY so X-Forwarded-Proto is trusted).
SECURE_SSL_REDIRECT = SECURE_SSL_REDIRECT_FROM_ENV
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
# X_FRAME_OPTIONS stays SAMEORIGIN: Wagtail's live preview frames the site's own pages
# (the public pages also send CSP frame-ancestors 'self', site_config/security.py).
SILENCED_SYSTEM_CHECKS = ["security.W019"]
