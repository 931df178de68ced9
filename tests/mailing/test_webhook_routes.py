"""ESP webhooks fail closed: no route without ANYMAIL_WEBHOOK_SECRET, only the
wanted ESPs' routes, production refusing to start when routes are wanted without
the secret, and a start-up check that lists live routes and missing signing keys."""

import base64
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client as Browser
from django.test import override_settings

from mailing.models import Attempt, Client, MailingRun
from mailing.services import open_run
from mailing.tokens import attempt_token
from mailing.webhooks import build_routes, check_webhook_routes
from site_config.anymail_env import anymail_settings
from tests.accounts.test_production_settings import GOOD_ENV, manage
from tests.factories import make_client, make_mailing, make_user
from tests.security.webhook_signers import routes_as_configured

SECRET = "esp:webhook-secret"
AUTH = "Basic " + base64.b64encode(SECRET.encode()).decode()


def names(patterns) -> set[str]:
    return {pattern.name for pattern in patterns}


# --- Which routes are mounted ------------------------------------------------------


@pytest.mark.smoke
def test_no_secret_no_route_whatever_is_wanted():
    with override_settings(ANYMAIL={}, WEBHOOK_ESPS=["all"]):
        mounted, refused = build_routes()

    assert mounted == []
    assert refused and {r.reason for r in refused} == {
        "ANYMAIL_WEBHOOK_SECRET is not set"
    }


def test_only_the_wanted_esps_are_routed():
    with override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}, WEBHOOK_ESPS=[]):
        assert build_routes() == ([], [])
    with override_settings(
        ANYMAIL={"WEBHOOK_SECRET": SECRET}, WEBHOOK_ESPS=["postmark"]
    ):
        mounted, _ = build_routes()

    assert names(mounted) == {"postmark_tracking_webhook", "postmark_inbound_webhook"}


def test_a_route_anymail_cannot_build_is_refused_with_its_reason():
    with override_settings(
        ANYMAIL={"WEBHOOK_SECRET": SECRET}, WEBHOOK_ESPS=["mailgun"]
    ):
        mounted, refused = build_routes()

    assert mounted == []
    assert {r.name for r in refused} == {
        "mailgun_tracking_webhook",
        "mailgun_inbound_webhook",
    }
    assert all("MAILGUN_WEBHOOK_SIGNING_KEY" in r.reason for r in refused)


def test_with_every_extra_installed_every_esp_can_be_routed():
    """boto3 (SES), svix (Resend), cryptography (Postal, SendGrid) are installed."""
    anymail = {"WEBHOOK_SECRET": SECRET, **ESP_KEYS}
    with override_settings(ANYMAIL=anymail, WEBHOOK_ESPS=["all"]):
        mounted, refused = build_routes()

    assert refused == []
    esps = {str(p.pattern).lstrip("^").split("/")[0] for p in mounted}
    assert esps >= {
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
        "sendgrid",
        "sparkpost",
        "unisender_go",
    }


# Keys that let Anymail build every ESP's views (values only need the right shape).
ESP_KEYS = {
    "BREVO_API_KEY": "brevo-key",
    "MAILERSEND_SIGNING_SECRET": "ms-signing",
    "MAILERSEND_INBOUND_SECRET": "ms-inbound",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-signing",
    "MAILTRAP_API_TOKEN": "mt-token",
    "MANDRILL_WEBHOOK_KEY": "md-key",
    "POSTAL_WEBHOOK_KEY": "postal-public-key",
    "RESEND_API_KEY": "re-key",
    "SENDINBLUE_API_KEY": "sib-key",
    "UNISENDER_GO_API_KEY": "ug-key",
}


# --- A forged event ----------------------------------------------------------------


@pytest.fixture
def foreign_attempt(db):
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner)])
    run = open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    attempt = run.attempts.get()
    Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.SUCCESS)
    return attempt


def forged_bounce(attempt, auth=None):
    payload = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "MessageID": "forged",
        "Metadata": {"attempt": attempt_token(attempt.pk)},
        "Details": "smtp;550 5.1.1 forged",
    }
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return Browser().post(
        "/anymail/postmark/tracking/",
        json.dumps(payload),
        content_type="application/json",
        **headers,
    )


def untouched(attempt) -> bool:
    row = Attempt.objects.select_related("client").get(pk=attempt.pk)
    return row.status == Attempt.Status.SUCCESS and row.client.suppressed_reason == ""


def test_without_the_secret_a_forged_bounce_finds_no_route(foreign_attempt):
    with routes_as_configured(ANYMAIL={}, WEBHOOK_ESPS=["postmark"]):
        response = forged_bounce(foreign_attempt)

    assert response.status_code == 404
    assert untouched(foreign_attempt)


def test_with_the_secret_a_bounce_without_it_is_refused(foreign_attempt):
    with routes_as_configured(
        ANYMAIL={"WEBHOOK_SECRET": SECRET}, WEBHOOK_ESPS=["postmark"]
    ):
        refused = forged_bounce(foreign_attempt)
        wrong = forged_bounce(foreign_attempt, auth="Basic " + "eDp5")
        accepted = forged_bounce(foreign_attempt, auth=AUTH)

    assert (refused.status_code, wrong.status_code) == (400, 400)
    assert b"basic auth" in refused.content
    assert accepted.status_code == 200
    assert not untouched(foreign_attempt)  # only the ESP, with the secret, gets here
    assert Client.objects.filter(suppressed_reason__contains="forged").count() == 1


# --- The start-up check ------------------------------------------------------------


def ids(messages) -> list[str]:
    return sorted(message.id for message in messages)


def test_the_check_lists_live_routes_and_warns_about_missing_signing_keys():
    with override_settings(
        ANYMAIL={"WEBHOOK_SECRET": SECRET, "MAILGUN_API_KEY": "key-api"},
        WEBHOOK_ESPS=["mailgun", "postmark"],
        EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
    ):
        messages = check_webhook_routes()

    assert ids(messages) == ["mailing.I101", "mailing.W102", "mailing.W102"]
    live = next(m for m in messages if m.id == "mailing.I101").msg
    assert "/anymail/mailgun/tracking/" in live and "/anymail/postmark/inbound/" in live
    assert all(
        "MAILGUN_WEBHOOK_SIGNING_KEY" in m.msg
        for m in messages
        if m.id != "mailing.I101"
    )


def test_the_check_warns_when_the_sending_esp_has_no_route():
    with override_settings(
        ANYMAIL={"WEBHOOK_SECRET": SECRET},
        WEBHOOK_ESPS=[],
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
    ):
        messages = check_webhook_routes()

    assert ids(messages) == ["mailing.I101", "mailing.W103"]


def test_the_check_says_smtp_tracking_never_matches():
    with override_settings(
        ANYMAIL={"WEBHOOK_SECRET": SECRET},
        WEBHOOK_ESPS=["postmark"],
        EMAIL_BACKEND="mailing.sending.smtp.EmailBackend",
    ):
        messages = check_webhook_routes()

    (blind,) = [m for m in messages if m.id == "mailing.I102"]
    assert "/anymail/postmark/tracking/" in blind.msg
    assert "/anymail/postmark/inbound/" not in blind.msg


# --- Settings from the environment -------------------------------------------------


def test_anymail_settings_from_the_environment_are_typed():
    settings = anymail_settings(
        {
            "ANYMAIL_AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": "False",
            "ANYMAIL_AMAZON_SES_CLIENT_PARAMS": '{"region_name": "eu-west-1"}',
            "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY": "whk",
            "ANYMAIL_WEBHOOK_SECRET": "old:pair, new:pair",
            "ANYMAIL_DEBUG_API_REQUESTS": "yes",
            "OTHER": "ignored",
        }
    )

    assert settings == {
        "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False,
        "AMAZON_SES_CLIENT_PARAMS": {"region_name": "eu-west-1"},
        "MAILGUN_WEBHOOK_SIGNING_KEY": "whk",
        "WEBHOOK_SECRET": ["old:pair", "new:pair"],
        "DEBUG_API_REQUESTS": True,
    }


@pytest.mark.parametrize(
    "environ",
    [
        {"ANYMAIL_AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": "maybe"},
        {"ANYMAIL_AMAZON_SES_SESSION_PARAMS": "[1, 2]"},
        {"ANYMAIL_AMAZON_SES_CLIENT_PARAMS": "{not json"},
    ],
)
def test_a_mistyped_anymail_setting_stops_the_start(environ):
    with pytest.raises(ImproperlyConfigured):
        anymail_settings(environ)


# --- Production settings, started as a real process --------------------------------

# Wagtail's page serving catches every other path: ask which view it would be.
RESOLVE = (
    "from django.urls import resolve\n"
    "print('VIEW', resolve('/anymail/postmark/tracking/').view_name)"
)


@pytest.mark.slow
def test_production_over_smtp_without_the_secret_mounts_no_webhook():
    result = manage(
        "shell", "-c", RESOLVE, EMAIL_URL="smtp+tls://mail.example.com:587", **GOOD_ENV
    )

    assert result.returncode == 0, result.stderr
    assert "VIEW wagtail_serve" in result.stdout


@pytest.mark.slow
def test_production_refuses_wanted_webhooks_without_the_secret():
    result = manage("check", WEBHOOK_ESPS="postmark", **GOOD_ENV)

    assert result.returncode != 0
    assert "ANYMAIL_WEBHOOK_SECRET" in result.stderr


@pytest.mark.slow
def test_check_deploy_fails_for_mailgun_with_only_the_api_key():
    env = {
        **GOOD_ENV,
        "EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend",
        "ANYMAIL_MAILGUN_API_KEY": "key-api",
        "ANYMAIL_WEBHOOK_SECRET": SECRET,
    }

    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode != 0
    assert "mailing.W102" in result.stderr
    assert "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY" in result.stderr
    assert "/anymail/mailgun/tracking/" in result.stderr  # the live-routes list
