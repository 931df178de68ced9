"""EMAIL_URL, read strictly: a URL that would silently turn TLS off is refused.

django-environ reads `smtp://user:pw@host:587/?tls=True` as plain SMTP (it wants
`?email_use_tls=True`), so the password and every email went out in clear, and it
maps `smtps://` to STARTTLS, which hangs on port 465. Here each scheme says what
it does and anything else (an unknown scheme or query) stops the start:

- `smtp://host:25` plain SMTP (production allows it only to this machine, or with
  EMAIL_ALLOW_PLAINTEXT),
- `smtp+tls://user:password@host:587` STARTTLS,
- `smtp+ssl://user:password@host:465` (or `smtps://`) implicit TLS (RFC 8314),
- `<esp>://` an Anymail ESP (`postmark://`, `amazon_ses://`, ...), its keys in
  ANYMAIL_* variables (a key in the URL is refused, not dropped),
- `consolemail://`, `memorymail://`, `dummymail://`, `filemail:///path` Django's
  development backends.

A "/", "?", "#" or "@" in the user name or password must be percent-encoded; a URL
that breaks there is refused with a message that quotes none of it.
"""

from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "mailing.sending.smtp.EmailBackend"
DEFAULT_PORTS = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465, "smtps": 465}
DEVELOPMENT = {
    "consolemail": "django.core.mail.backends.console.EmailBackend",
    "memorymail": "django.core.mail.backends.locmem.EmailBackend",
    "dummymail": "django.core.mail.backends.dummy.EmailBackend",
    "filemail": "django.core.mail.backends.filebased.EmailBackend",
}
# Anymail's backends with a send API (anymail.backends.<name>.EmailBackend).
ANYMAIL_ESPS = (
    "amazon_ses",
    "brevo",
    "mailersend",
    "mailgun",
    "mailjet",
    "mailtrap",
    "mandrill",
    "postal",
    "postmark",
    "resend",
    "scaleway",
    "sendgrid",
    "sparkpost",
    "unisender_go",
)
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
UNENCODED = (
    "EMAIL_URL cannot be read as user:password@host:port: percent-encode '/', "
    "'?', '#' and '@' in the user name and password (%2F, %3F, %23, %40) and give "
    "the port as a number."
)


def parse_email_url(url: str) -> dict:
    """The EMAIL_* settings an EMAIL_URL stands for; ImproperlyConfigured if unclear."""
    # Split the scheme by hand: urlsplit refuses an underscore in it (amazon_ses://).
    scheme, _sep, rest = url.partition("://")
    scheme = scheme.lower()
    parts = urlsplit(f"x://{rest}")
    smtp_path = parts.path if scheme in DEFAULT_PORTS else ""
    if "@" in smtp_path + parts.query + parts.fragment:
        # A "/", "?" or "#" in the password ended the URL's credentials early;
        # the message quotes none of it, which may be the password.
        raise ImproperlyConfigured(UNENCODED)
    if parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"EMAIL_URL takes no options after '?' or '#' ({parts.query!r}): say TLS "
            "in the scheme, smtp+tls:// (STARTTLS, port 587) or smtp+ssl:// (port 465)."
        )
    if scheme in DEFAULT_PORTS:
        return _smtp(parts, scheme)
    if scheme in DEVELOPMENT:
        settings = {"EMAIL_BACKEND": DEVELOPMENT[scheme]}
        if scheme == "filemail":
            settings["EMAIL_FILE_PATH"] = parts.path
        return settings
    esp = scheme.replace("-", "_")
    if esp in ANYMAIL_ESPS:
        return _esp(parts, esp)
    raise ImproperlyConfigured(
        f"EMAIL_URL has an unknown scheme {scheme!r}: use smtp://, smtp+tls://, "
        "smtp+ssl://, an Anymail ESP (e.g. postmark://) or consolemail://."
    )


def _esp(parts, esp: str) -> dict:
    if parts.netloc or parts.path.strip("/"):
        # The key in sendgrid://KEY@ was dropped without a word, and every send
        # then failed for want of a key.
        raise ImproperlyConfigured(
            f"EMAIL_URL {esp}:// takes nothing after '://': give the ESP's keys "
            f"in its ANYMAIL_{esp.upper()}_* variables (README, Configuration)."
        )
    return {"EMAIL_BACKEND": f"anymail.backends.{esp}.EmailBackend"}


def _smtp(parts, scheme: str) -> dict:
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL names no SMTP host.")
    try:
        port = parts.port
    except ValueError:  # its text quotes what may be the start of the password
        raise ImproperlyConfigured(UNENCODED) from None
    return {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or DEFAULT_PORTS[scheme],
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": scheme == "smtp+tls",
        "EMAIL_USE_SSL": scheme in ("smtp+ssl", "smtps"),
    }


def is_plaintext_smtp(settings: dict) -> bool:
    """SMTP to another machine without STARTTLS or TLS: readable on the way."""
    return (
        settings.get("EMAIL_BACKEND") == SMTP_BACKEND
        and settings.get("EMAIL_HOST", "localhost") not in LOCAL_HOSTS
        and not (settings.get("EMAIL_USE_TLS") or settings.get("EMAIL_USE_SSL"))
    )


def refuse_plaintext(settings: dict, allowed: bool) -> None:
    """Production: a remote SMTP host without TLS stops the start, unless allowed."""
    if is_plaintext_smtp(settings) and not allowed:
        raise ImproperlyConfigured(
            f"EMAIL_URL sends to {settings['EMAIL_HOST']} without TLS: use "
            "smtp+tls:// or smtp+ssl://, or set EMAIL_ALLOW_PLAINTEXT=True for a "
            "relay on a trusted network."
        )
