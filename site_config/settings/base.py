"""Settings shared by every environment.

This is the only settings module that reads the environment (django-environ, plus a
`.env` file when one exists); dev, test and production only set values.
Reference: https://docs.djangoproject.com/en/5.2/ref/settings/
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import environ
import redis
from django.utils.translation import gettext_lazy as _

from site_config.anymail_env import anymail_settings
from site_config.email_env import parse_email_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# --- Core -------------------------------------------------------------------------

# Empty means "not configured": dev fills in a throwaway key, production refuses.
SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
# Absolute address of the site, for links in emails (verification, unsubscribe).
BASE_URL = env.str("BASE_URL", default="").rstrip("/")
WAGTAILADMIN_BASE_URL = BASE_URL
# The port `make run` serves on: development's BASE_URL follows it.
PORT = env.int("PORT", default=8000)
# Background tasks' log level in development (their INFO lines flood the terminal).
TASK_LOG_LEVEL = env.str("TASK_LOG_LEVEL", default="WARNING")

INSTALLED_APPS = [
    "accounts",
    "mailing",
    "home",
    "blog",
    "archive",
    "wagtail.contrib.forms",
    "wagtail.contrib.simple_translation",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.locales",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "wagtail.api.v2",
    "django_tasks",
    "huey.contrib.djhuey",
    "anymail",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    # Index expressions with an operator class (the attempts search by address).
    "django.contrib.postgres",
]

MIDDLEWARE = [
    # Answers anonymous hits on cached pages before anything else runs; it stores the
    # response as the middlewares below finish it (security headers and CSP included).
    "home.page_cache.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # ESP webhooks go straight to their view: no session, user, locale or CSRF work.
    "mailing.webhook_shortcut.WebhookShortcutMiddleware",
    # CSP for the public site (site_config/security.py); the admin is exempt.
    "site_config.security.ContentSecurityPolicyMiddleware",
    # WhiteNoise serves static files from the app server: no separate web server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the language is known: the 400 says why in the visitor's language.
    "site_config.errors.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Just before the CSRF check: a PUT or PROPFIND to a page is a 405, not a 403.
    "site_config.methods.BrowserMethodsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A blocked user loses every open session on their next request.
    "accounts.middleware.BlockedUserLogoutMiddleware",
    # The admin in the user's own language, its refusals and messages too.
    "accounts.middleware.AdminLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # The Wagtail Site of a page request from the cache, not a query per request.
    "home.sites.CachedSiteMiddleware",
]

ROOT_URLCONF = "site_config.urls"
WSGI_APPLICATION = "site_config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------

# SQLite by default, so a newcomer installs nothing; DATABASE_URL picks PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
# Persistent connections: reconnecting per request halves the throughput of a page.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A connection dropped by a database restart is replaced, not turned into a 500.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run` writes from the web server and two task workers at once. Django's
    # documented SQLite options: writers take the lock when their transaction
    # begins and wait up to 20 s for it (a deferred transaction upgrading its lock
    # fails at once with "database is locked"), and WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=20,
        init_command="PRAGMA journal_mode=WAL;",
    )
    # A covering index's INCLUDE columns are a PostgreSQL speed-up; SQLite builds
    # the index without them, so its warning is only noise in a newcomer's terminal.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and task queue ---------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "vestnik",
            "OPTIONS": {
                # Redis down degrades to a cache miss instead of a 500.
                # https://github.com/jazzband/django-redis#memcached-exceptions-behavior
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    # Sessions from Redis, kept in the database (accounts/sessions.py). Their own
    # alias: no IGNORE_EXCEPTIONS, so a sign-out never passes with Redis's copy left.
    CACHES["sessions"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "vestnik",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
    SESSION_ENGINE = "accounts.sessions"
    SESSION_CACHE_ALIAS = "sessions"
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "vestnik",
        # A hung Redis costs a request (sign-up queues its email) seconds, not
        # forever; above the consumer's 1 s blocking read, which is not a hang.
        # Huey takes timeouts only through a pool when given a URL.
        "connection_pool": redis.ConnectionPool.from_url(
            REDIS_URL, socket_connect_timeout=1, socket_timeout=3
        ),
    }
else:
    # Sessions stay in the database (Django's default): a local-memory copy in one
    # process would outlive a sign-out made in another.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "vestnik",
        }
    }
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "vestnik",
        "filename": str(BASE_DIR / "huey.sqlite3"),
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Explicit: djhuey would copy DEBUG, and run_huey refuses to start in immediate mode.
HUEY["immediate"] = False
HUEY["consumer"] = {
    "workers": env.int("HUEY_WORKERS", default=2),
    "worker_type": "thread",
}

# Wagtail 8 runs background work through Django's tasks framework: route it to Huey.
TASKS = {"default": {"BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend"}}

# Whole-page cache of the public pages (home.page_cache). Paths that are never pages
# skip even the cache lookup.
PAGE_CACHE_SKIP_PREFIXES = [
    "/admin/",
    "/static/",
    "/media/",
    "/documents/",
    "/healthz/",
    "/i18n/",
    "/anymail/",
    "/accounts/",
    "/en/accounts/",
]

# --- Client import ----------------------------------------------------------------
# Uploads wait here between preview and confirm. With several web machines, point it
# at a shared folder that the consumer running periodic tasks also sees.
CLIENT_IMPORT_DIR = env.str(
    "CLIENT_IMPORT_DIR",
    default=os.path.join(tempfile.gettempdir(), "vestnik-client-imports"),
)
# An upload left at the preview step is deleted after this many seconds.
CLIENT_IMPORT_MAX_AGE = env.int("CLIENT_IMPORT_MAX_AGE", default=24 * 60 * 60)
# Largest clients CSV accepted for import (10 MB is about 250,000 rows); the file
# is stashed on disk between upload and confirmation, so it is bounded.
CLIENT_IMPORT_MAX_BYTES = env.int("CLIENT_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)

# --- Email ------------------------------------------------------------------------

# Console by default (links print in the terminal). Read strictly: smtp+tls:// for
# STARTTLS (587), smtp+ssl:// for implicit TLS (465), postmark:// etc. for an
# Anymail ESP with its ANYMAIL_* keys (site_config/email_env.py).
_email = parse_email_url(env.str("EMAIL_URL", default="consolemail://"))
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
# Django's SMTP backend named directly gets Vestnik's: it keeps the server's reply,
# pipelines and writes mailings faster (mailing/sending/smtp.py).
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    EMAIL_BACKEND = "mailing.sending.smtp.EmailBackend"
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
if "EMAIL_FILE_PATH" in _email:
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
# Production refuses plain SMTP to another machine unless this says the network is
# trusted (site_config/settings/production.py).
EMAIL_ALLOW_PLAINTEXT = env.bool("EMAIL_ALLOW_PLAINTEXT", default=False)
# A client certificate for relays that want one, and the CA bundle that verifies the
# relay's certificate (empty: the system's).
EMAIL_SSL_CERTFILE = env.str("EMAIL_SSL_CERTFILE", default="") or None
EMAIL_SSL_KEYFILE = env.str("EMAIL_SSL_KEYFILE", default="") or None
EMAIL_SSL_CAFILE = env.str("EMAIL_SSL_CAFILE", default="") or None
# The name Vestnik gives in EHLO; empty: the host of BASE_URL (relays and receivers
# score a name that does not resolve, such as a container's id).
EMAIL_HELO_NAME = env.str("EMAIL_HELO_NAME", default="") or (
    urlsplit(BASE_URL).hostname or ""
)
# From domains signed with DKIM by the relay or ESP besides the site's own (comma-
# separated); check --deploy warns about a From domain in neither.
EMAIL_DKIM_DOMAINS = env.list("EMAIL_DKIM_DOMAINS", default=[])
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Vestnik <noreply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where account emails send a person whose account may be taken over; empty: the
# emails say "contact the site administrators" without an address.
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="")
# A server that accepts the connection and then hangs costs one timeout, not a consumer.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Error replies one SMTP connection may draw before Vestnik reconnects: the relay's
# soft error limit, after which it slows every reply (Postfix's
# smtpd_soft_error_limit, 10) and then hangs up (smtpd_hard_error_limit, 20).
EMAIL_ERROR_BUDGET = env.int("EMAIL_ERROR_BUDGET", default=10)
# Every ANYMAIL_* variable, typed (site_config/anymail_env.py): each ESP's keys and
# webhook signing keys (README, "ESP webhooks").
ANYMAIL = anymail_settings(os.environ)
# (connect, read) seconds for ESP HTTP APIs.
ANYMAIL.setdefault("REQUESTS_TIMEOUT", (5, 30))
# The ESPs whose tracking and inbound webhooks are routed under /anymail/ (comma-
# separated route names such as mailgun or amazon_ses, or "all"). Unset: the ESP
# of EMAIL_BACKEND, none over SMTP. No route is ever routed without
# ANYMAIL_WEBHOOK_SECRET (mailing/webhooks.py); production refuses to start then.
WEBHOOK_ESPS_FROM_ENV = env.list("WEBHOOK_ESPS", default=None)
if WEBHOOK_ESPS_FROM_ENV is None:
    _esp = EMAIL_BACKEND.removeprefix("anymail.backends.").partition(".")[0]
    _is_esp = EMAIL_BACKEND.startswith("anymail.backends.") and _esp != "test"
    WEBHOOK_ESPS = [_esp] if _is_esp else []
else:
    WEBHOOK_ESPS = [name.strip().lower() for name in WEBHOOK_ESPS_FROM_ENV]
    WEBHOOK_ESPS = [name for name in WEBHOOK_ESPS if name]

# Deliveries, deferrals, opens and clicks from ESP webhooks are queued in Redis and
# recorded in batches by a task (mailing/event_queue.py); False records each in its
# request (a transaction per event). Without Redis they always are.
WEBHOOK_EVENT_QUEUE = env.bool("WEBHOOK_EVENT_QUEUE", default=True)

# --- Sending mailings (mailing/services.py) ---------------------------------------

# Recipients a consumer has claimed at most, in groups of BATCH / (2 x CONCURRENCY),
# one statement each: one group on the wire per connection (what a kill can leave
# `unknown`) and one claimed behind it; larger, fewer queries.
SENDING_BATCH_SIZE = env.int("SENDING_BATCH_SIZE", default=200)
# SMTP connections (or ESP sessions) used side by side by one run in one consumer.
# With SMTP PIPELINING one connection keeps a core busy: more threads only fight
# for the GIL (benchmarks/sending.py). An ESP's slow HTTP calls may want more.
SENDING_CONCURRENCY = env.int("SENDING_CONCURRENCY", default=2)
# Send tasks enqueued per run: each claims batches, so several consumer processes
# (one per core, README "Scaling out") share one run instead of one GIL.
SENDING_TASKS_PER_RUN = env.int("SENDING_TASKS_PER_RUN", default=2)
# Tries per recipient for transient failures (connection refused, 4xx, ESP 5xx/429).
SENDING_MAX_TRIES = env.int("SENDING_MAX_TRIES", default=3)
# First retry delay in seconds; each later one doubles.
SENDING_RETRY_BACKOFF = env.float("SENDING_RETRY_BACKOFF", default=30.0)
# A consumer sleeps through shorter waits; longer ones become a scheduled task.
SENDING_RETRY_WAIT_MAX = env.float("SENDING_RETRY_WAIT_MAX", default=5.0)
# Messages per second, per owner and for the whole service (0 = no limit).
SENDING_RATE_PER_OWNER = env.int("SENDING_RATE_PER_OWNER", default=50)
SENDING_RATE_GLOBAL = env.int("SENDING_RATE_GLOBAL", default=200)
# A consumer's lease (mailing.sending.leases) lapses this many seconds after its last
# heartbeat: its claimed rows go back to pending, its rows on the wire are unknown.
SENDING_LEASE_SECONDS = env.int("SENDING_LEASE_SECONDS", default=30)
# Seconds between heartbeats; a few fit in a lease, so one late beat is harmless.
SENDING_LEASE_HEARTBEAT = env.float("SENDING_LEASE_HEARTBEAT", default=5.0)
# Fallback for rows claimed without a lease (before issue 18): still `sending` this
# many seconds after the claim, they lost their consumer: unknown.
SENDING_UNKNOWN_AFTER = env.int("SENDING_UNKNOWN_AFTER", default=600)
# A run without activity for this many seconds is re-enqueued by the sweeper.
SENDING_STALLED_AFTER = env.int("SENDING_STALLED_AFTER", default=120)
# Client ids per statement when a run's outbox is written
# (mailing.sending.outbox_writing): each chunk is committed, so sending starts
# before the last one is in.
OUTBOX_CHUNK_IDS = env.int("OUTBOX_CHUNK_IDS", default=50_000)
# VERP return path of mailings sent over SMTP: bounces+<signed attempt token>@this
# domain, whose delivery status notifications come back through the inbound route
# or `manage.py read_dsn` (mailing/return_path.py). Empty: the site's address.
EMAIL_BOUNCE_DOMAIN = env.str("EMAIL_BOUNCE_DOMAIN", default="")
EMAIL_BOUNCE_LOCAL_PART = env.str("EMAIL_BOUNCE_LOCAL_PART", default="bounces")
# The mailto: of List-Unsubscribe; empty: unsubscribe@<domain of DEFAULT_FROM_EMAIL>.
UNSUBSCRIBE_MAILTO = env.str("UNSUBSCRIBE_MAILTO", default="")
# The postal address in the footer of mailings sent from DEFAULT_FROM_EMAIL (owners
# without a sender identity); anti-spam laws in many countries require one.
MAIL_POSTAL_ADDRESS = env.str("MAIL_POSTAL_ADDRESS", default="")
# The spam check of the message preview: SpamAssassin's rules, run offline.
SPAMASSASSIN_COMMAND = env.str("SPAMASSASSIN_COMMAND", default="spamassassin")
SPAMASSASSIN_TIMEOUT = env.int("SPAMASSASSIN_TIMEOUT", default=30)

# --- Accounts ---------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "wagtailadmin_home"
LOGOUT_REDIRECT_URL = "/"
WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"
# One login door: the admin sends people to the accounts pages, which throttle and
# refuse unverified and blocked users; the email changes only through a verified link.
WAGTAILADMIN_LOGIN_URL = "accounts:login"
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False
# The backend refuses blocked users everywhere, sessions included.
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
# The client address comes from REMOTE_ADDR unless a trusted proxy sits in front.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Internationalisation ---------------------------------------------------------

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# Pages in both languages: one tree per locale, the English one a translation of the
# Russian one (same translation_key), served under /en/ by i18n_patterns.
# https://docs.wagtail.org/en/stable/advanced_topics/i18n.html
# simple_translation, not wagtail-localize: editors write each language's page
# themselves (no PO workflow, no machine translation to run) and it ships with
# Wagtail, so no package to pin and follow across Wagtail upgrades.
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES

# --- Static and media -------------------------------------------------------------

STATIC_URL = "/static/"
# collectstatic writes here (production); a benchmark points it at a temp folder.
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")


def _bootstrap_dir() -> str:
    # Bootstrap ships in a Python package (xstatic-bootstrap): no CDN, no Node step.
    from xstatic.pkg import bootstrap

    return bootstrap.BASE_DIR


STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", _bootstrap_dir())]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Wagtail ----------------------------------------------------------------------

WAGTAIL_SITE_NAME = "Vestnik"
# No avatars from gravatar.com: each admin page would send a hash of the user's
# address to a third party (and show broken images offline). Initials instead.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Draftail, refusing malformed content with a 400 instead of failing with a 500.
WAGTAILADMIN_RICH_TEXT_EDITORS = {
    "default": {"WIDGET": "site_config.rich_text.CheckedDraftailRichTextArea"}
}
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
# Documents have no limit unless one is set: an editor's upload is bounded too.
WAGTAILDOCS_MAX_UPLOAD_SIZE = env.int(
    "WAGTAILDOCS_MAX_UPLOAD_SIZE", default=20 * 1024 * 1024
)
# Wagtail's image form, refusing an unreadable file with a message (home/images.py).
WAGTAILIMAGES_IMAGE_FORM_BASE = "home.images.ImageForm"
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- REST API (mailing/api/, issue 15) --------------------------------------------

# Only project-wide DRF defaults here: Wagtail's own APIs (admin choosers, /api/v2/)
# keep theirs; the /api/v1/ views set authentication, permissions and errors
# themselves (mailing/api/base.py).
# https://www.django-rest-framework.org/api-guide/throttling/
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Requests per token (per user for a session) on the default cache: Redis.
    "DEFAULT_THROTTLE_RATES": {"api": env.str("API_RATE", default="1200/min")},
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "Vestnik API",
    "DESCRIPTION": "Clients, messages, mailings, runs, attempts and events of the "
    "token's owner. Send the token as Authorization: Bearer TOKEN (made in the "
    "admin, API tokens).",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["mailing.api.schema.only_api_v1"],
    # Swagger UI's files from drf-spectacular-sidecar: served here, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security (tightened further in production.py) --------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# The API's clients get JSON where a POST reached no API view (those check CSRF
# their own way); everyone else Django's page (templates/403_csrf.html).
CSRF_FAILURE_VIEW = "site_config.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
# The public pages run only this site's own scripts and styles: an injected <script>
# or onerror= does nothing. Wagtail's admin needs inline code and keeps its defaults.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'self'"],
}
CONTENT_SECURITY_POLICY_EXEMPT_PATHS = ["/admin/"]
SECURE_SSL_REDIRECT_FROM_ENV = env.bool("SECURE_SSL_REDIRECT", default=True)
# Set where a proxy terminates TLS and sends X-Forwarded-Proto; never trusted otherwise.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)

# --- Logging ----------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # Huey and Wagtail's tasks log every task at INFO ("Executing ...",
        # "... executed in"): quiet unless TASK_LOG_LEVEL=INFO asks. The handler
        # matters: run_huey sets up the "huey" logger itself (its own level and
        # handler, each line printed twice) only when the logger has none.
        "huey": {"handlers": ["console"], "level": TASK_LOG_LEVEL, "propagate": False},
        "django_tasks": {"level": TASK_LOG_LEVEL},
    },
}

# --- Demo content -----------------------------------------------------------------

# `manage.py seed_demo` calls each in order; every app seeds its own part, idempotently.
DEMO_SEEDERS = [
    "accounts.demo.seed",
    "mailing.demo.seed",
    "blog.demo.seed",
]
