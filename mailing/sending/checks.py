"""Start-up checks of the sending configuration (`manage.py check --deploy`).

Each one is a mistake that sends nothing wrong-looking until mail goes missing:
a password over a plain connection, a TLS file that cannot be read, a From domain
no one signs, an ESP feature the run would have used. The ESP's webhook signing
keys are checked with the routes (mailing/webhooks.py, W102).
"""

import os
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from . import capabilities

SMTP_BACKEND = "mailing.sending.smtp.EmailBackend"
# Backends that send nothing anywhere: nothing to check.
LOCAL_BACKENDS = ("console", "locmem", "dummy", "filebased", "anymail.backends.test")


def _sends_mail() -> bool:
    return not any(name in settings.EMAIL_BACKEND for name in LOCAL_BACKENDS)


@checks.register(checks.Tags.security, deploy=True)
def check_auth_over_tls(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    uses_smtp = settings.EMAIL_BACKEND in (
        SMTP_BACKEND,
        "django.core.mail.backends.smtp.EmailBackend",
    )
    encrypted = settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL
    if uses_smtp and settings.EMAIL_HOST_PASSWORD and not encrypted:
        return [
            checks.Warning(
                f"SMTP AUTH to {settings.EMAIL_HOST} without TLS: the password and "
                "every email cross the network readable.",
                hint="Use smtp+tls:// (STARTTLS, 587) or smtp+ssl:// (465) in "
                "EMAIL_URL.",
                id="mailing.W201",
            )
        ]
    return []


TLS_FILES = ("EMAIL_SSL_CAFILE", "EMAIL_SSL_CERTFILE", "EMAIL_SSL_KEYFILE")


@checks.register()
def check_tls_files(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A TLS file that cannot be used stops every email over SMTP, each failing
    with "[Errno 2] No such file or directory", naming neither file nor setting:
    said here, at every start, before a run retries it for nothing."""
    uses_tls = settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL
    if settings.EMAIL_BACKEND != SMTP_BACKEND or not uses_tls:
        return []
    unreadable = [
        f"{name}={path}"
        for name in TLS_FILES
        if (path := getattr(settings, name, None)) and not _readable(path)
    ]
    if unreadable:
        return [_tls_error(f"cannot be read: {', '.join(unreadable)}")]
    try:
        from .smtp import EmailBackend

        EmailBackend().ssl_context()
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        return [_tls_error(f"cannot be used: {error}")]
    return []


def _readable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


def _tls_error(problem: str) -> checks.Error:
    return checks.Error(
        f"The SMTP TLS files {problem}. No email can go out over TLS.",
        hint="Give EMAIL_SSL_CAFILE a PEM bundle of CA certificates, and "
        "EMAIL_SSL_CERTFILE and EMAIL_SSL_KEYFILE the client certificate and its key "
        "(both PEM), as files this process may read; or leave them empty.",
        id="mailing.E201",
    )


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower()


def _covered(from_domain: str, site_host: str) -> bool:
    """The From domain is the site's, a parent of it, or noted as DKIM-signed."""
    signed = {d.strip().lower() for d in settings.EMAIL_DKIM_DOMAINS}
    return (
        from_domain == site_host
        or site_host.endswith("." + from_domain)
        or from_domain in signed
    )


@checks.register(deploy=True)
def check_from_domain(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    site_host = (urlsplit(settings.BASE_URL).hostname or "").lower()
    from_domain = _domain(settings.DEFAULT_FROM_EMAIL)
    if not (_sends_mail() and site_host and from_domain):
        return []
    if _covered(from_domain, site_host):
        return []
    return [
        checks.Warning(
            f"DEFAULT_FROM_EMAIL is at {from_domain}, not the site's domain "
            f"{site_host}: receivers reject or bin mail whose From domain is not "
            "signed (DMARC).",
            hint="Have the relay or ESP sign it with DKIM and list it in "
            "EMAIL_DKIM_DOMAINS, or send from the site's domain.",
            id="mailing.W202",
        )
    ]


@checks.register()
def check_backend_capabilities(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """What the ESP accepts, probed once here at start-up (sending.capabilities)."""
    found = capabilities.current()
    if not found.esp or found.esp == "test":
        return []
    tags = (
        "any number of tags"
        if found.max_tags is None
        else f"at most {found.max_tags} tag{'s' if found.max_tags != 1 else ''}"
    )
    batch = (
        f"batches of up to {found.batch.max_recipients} recipients per API call"
        if found.batch
        else "one API call per email"
    )
    return [
        checks.Info(
            f"Mail goes out through {found.esp}: {tags}, "
            f"{'with' if found.metadata else 'without'} metadata, {batch}.",
            id="mailing.I201",
        )
    ]
