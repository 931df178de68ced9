"""Mail configuration that cannot silently go wrong: EMAIL_URL read strictly,
production refusing plain SMTP to another host, and the sending checks."""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from mailing.sending import checks as sending_checks
from site_config.email_env import is_plaintext_smtp, parse_email_url
from tests.accounts.test_production_settings import GOOD_ENV, manage
from tests.mailing.tls_servers import make_ca

SMTP = "mailing.sending.smtp.EmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp+tls://user:p%40ss@mail.example.com:587",
            {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False},
        ),
        (
            "smtp+ssl://user:pw@mail.example.com",
            {"EMAIL_PORT": 465, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True},
        ),
        # smtps is implicit TLS (RFC 8314), not STARTTLS as django-environ has it.
        (
            "smtps://user:pw@mail.example.com:465",
            {"EMAIL_PORT": 465, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True},
        ),
        (
            "smtp://127.0.0.1:2525",
            {"EMAIL_PORT": 2525, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False},
        ),
    ],
)
def test_smtp_urls_say_their_tls_in_the_scheme(url, expected):
    parsed = parse_email_url(url)

    assert parsed["EMAIL_BACKEND"] == SMTP
    assert {key: parsed[key] for key in expected} == expected


def test_user_and_password_are_url_decoded():
    parsed = parse_email_url("smtp+tls://us%2Ber:p%40ss%3Aword@mail.example.com:587")

    assert (parsed["EMAIL_HOST_USER"], parsed["EMAIL_HOST_PASSWORD"]) == (
        "us+er",
        "p@ss:word",
    )


@pytest.mark.parametrize(
    "url",
    [
        # The old .env.example: django-environ read it as plain SMTP.
        "smtp://user:password@mail.example.com:587/?tls=True",
        "smtp://mail.example.com:25?ssl=True",
        "smtq://mail.example.com",
        "smtp://:25",
        "notanesp://",
    ],
)
def test_an_unclear_email_url_stops_the_start(url):
    with pytest.raises(ImproperlyConfigured):
        parse_email_url(url)


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("postmark://", "anymail.backends.postmark.EmailBackend"),
        ("amazon_ses://", "anymail.backends.amazon_ses.EmailBackend"),
        ("unisender-go://", "anymail.backends.unisender_go.EmailBackend"),
        ("consolemail://", "django.core.mail.backends.console.EmailBackend"),
    ],
)
def test_esp_and_development_schemes(url, backend):
    assert parse_email_url(url)["EMAIL_BACKEND"] == backend


@pytest.mark.parametrize(
    "url",
    [
        # Each ended the credentials early: read as options, or as the port (whose
        # ValueError quoted the password's start), or host "us" with no password.
        "smtp+tls://user:pa#ss-word@mail.example.com:587",
        "smtp+tls://user:pa?ss-word@mail.example.com:587",
        "smtp+tls://user:pa/ss-word@mail.example.com:587",
        "smtp+tls://us/er:ss-word@mail.example.com",
    ],
)
def test_an_unencoded_password_is_refused_without_being_quoted(url):
    with pytest.raises(ImproperlyConfigured) as refused:
        parse_email_url(url)

    message = str(refused.value)
    assert "percent-encode" in message
    assert "ss-word" not in message and "'pa'" not in message


def test_a_port_that_is_not_a_number_is_refused_clearly():
    with pytest.raises(ImproperlyConfigured, match="port as a number"):
        parse_email_url("smtp+tls://mail.example.com:58a")


@pytest.mark.parametrize("url", ["sendgrid://SG.secret@", "postmark://token@api"])
def test_a_key_in_an_esp_url_is_refused_not_dropped(url):
    with pytest.raises(ImproperlyConfigured, match="ANYMAIL_") as refused:
        parse_email_url(url)

    assert "secret" not in str(refused.value) and "token" not in str(refused.value)


def test_plain_smtp_counts_only_to_another_host():
    assert is_plaintext_smtp(parse_email_url("smtp://mail.example.com:25"))
    assert not is_plaintext_smtp(parse_email_url("smtp://127.0.0.1:25"))
    assert not is_plaintext_smtp(parse_email_url("smtp+tls://mail.example.com:587"))
    assert not is_plaintext_smtp(parse_email_url("postmark://"))


# --- Production, started as a real process -----------------------------------------


@pytest.mark.slow
def test_production_refuses_plain_smtp_to_another_host():
    result = manage("check", EMAIL_URL="smtp://u:pw@mail.example.com:25", **GOOD_ENV)

    assert result.returncode != 0
    assert "without TLS" in result.stderr
    assert "EMAIL_ALLOW_PLAINTEXT" in result.stderr


@pytest.mark.slow
def test_production_takes_plain_smtp_when_allowed_and_tls_always():
    allowed = manage(
        "check",
        EMAIL_URL="smtp://mail.example.com:25",
        EMAIL_ALLOW_PLAINTEXT="True",
        **GOOD_ENV,
    )
    tls = manage("check", EMAIL_URL="smtp+ssl://u:pw@mail.example.com:465", **GOOD_ENV)

    assert allowed.returncode == 0, allowed.stderr
    assert tls.returncode == 0, tls.stderr


@pytest.mark.slow
def test_production_refuses_the_old_tls_query():
    result = manage(
        "check", EMAIL_URL="smtp://u:pw@mail.example.com:587/?tls=True", **GOOD_ENV
    )

    assert result.returncode != 0
    assert "smtp+tls://" in result.stderr


# --- Checks ---------------------------------------------------------------------------


def ids(messages) -> list[str]:
    return [message.id for message in messages]


@override_settings(
    EMAIL_BACKEND=SMTP,
    EMAIL_HOST="mail.example.com",
    EMAIL_HOST_PASSWORD="secret",
    EMAIL_USE_TLS=False,
    EMAIL_USE_SSL=False,
)
def test_auth_without_tls_is_warned_about():
    assert ids(sending_checks.check_auth_over_tls()) == ["mailing.W201"]
    with override_settings(EMAIL_USE_TLS=True):
        assert sending_checks.check_auth_over_tls() == []


@override_settings(
    EMAIL_BACKEND=SMTP,
    BASE_URL="https://news.example.com",
    EMAIL_DKIM_DOMAINS=[],
)
@pytest.mark.parametrize(
    ("sender", "warned"),
    [
        ("Vestnik <noreply@news.example.com>", False),
        ("noreply@example.com", False),  # the site's parent domain
        ("noreply@other.example.org", True),
    ],
)
def test_a_from_domain_other_than_the_sites_needs_a_dkim_note(sender, warned):
    with override_settings(DEFAULT_FROM_EMAIL=sender):
        found = ids(sending_checks.check_from_domain())
        with override_settings(EMAIL_DKIM_DOMAINS=["other.example.org"]):
            noted = sending_checks.check_from_domain()

    assert found == (["mailing.W202"] if warned else [])
    assert noted == []


@override_settings(
    EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
    ANYMAIL={"POSTMARK_SERVER_TOKEN": "token"},
)
def test_the_esps_probed_features_are_listed_at_start_up():
    (info,) = sending_checks.check_backend_capabilities()

    assert info.id == "mailing.I201"
    assert "postmark: at most 1 tag, with metadata, one API call per email" in (
        info.msg
    )


# --- TLS files: said at every start, naming the setting ---------------------------


def _tls(**files):
    return override_settings(
        EMAIL_BACKEND=SMTP,
        EMAIL_USE_TLS=True,
        EMAIL_USE_SSL=False,
        **{name: files.get(name) for name in sending_checks.TLS_FILES},
    )


def test_a_tls_file_that_is_missing_stops_the_start_naming_it(tmp_path):
    missing = str(tmp_path / "ca.pem")

    with _tls(EMAIL_SSL_CAFILE=missing):
        found = [m for m in checks.run_checks() if m.id == "mailing.E201"]
        with override_settings(EMAIL_USE_TLS=False):
            plain = sending_checks.check_tls_files()
        with override_settings(EMAIL_BACKEND=LOCMEM):
            elsewhere = sending_checks.check_tls_files()

    # Registered for every start (runserver, migrate, run_huey), not only --deploy.
    assert [m.level for m in found] == [checks.ERROR]
    assert f"EMAIL_SSL_CAFILE={missing}" in found[0].msg
    assert plain == [] and elsewhere == []


def test_a_tls_file_that_is_no_certificate_is_refused(tmp_path):
    ca, cert, key = make_ca(tmp_path)
    (tmp_path / "notes.txt").write_text("not a certificate")

    with _tls(EMAIL_SSL_CAFILE=str(tmp_path / "notes.txt")):
        (refused,) = sending_checks.check_tls_files()
    with _tls(EMAIL_SSL_CAFILE=ca, EMAIL_SSL_CERTFILE=cert, EMAIL_SSL_KEYFILE=ca):
        (mismatched,) = sending_checks.check_tls_files()
    with _tls(EMAIL_SSL_CAFILE=ca, EMAIL_SSL_CERTFILE=cert, EMAIL_SSL_KEYFILE=key):
        usable = sending_checks.check_tls_files()

    assert "cannot be used" in refused.msg
    assert "cannot be used" in mismatched.msg
    assert usable == []
