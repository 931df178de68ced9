"""No state-changing request without a CSRF token, at any address the project serves.

Every address from the URL walk gets a POST without a token, as anonymous and as a
superuser (so no permission check can hide a missing CSRF check). Django's CSRF
middleware must refuse each one, except the addresses below that authenticate
the request by other means; those must refuse a request without that means.
"""

from __future__ import annotations

import fnmatch

import pytest
from django.conf import settings
from django.http import HttpResponseForbidden
from django.middleware.csrf import _get_new_csrf_string
from django.test import override_settings

from tests.security.access import LOGIN, NO_GET, outcome
from tests.security.urlwalk import walk

pytestmark = [pytest.mark.django_db]

CSRF_REFUSED = "X-Test-CSRF-Refused"

# pattern over "namespace:name" -> why it is exempt, and what refuses strangers
TOKEN_AUTHENTICATED = {
    "anymail:*": "ESP webhooks: the ESP POSTs with HTTP basic auth (WEBHOOK_SECRET)",
    "mailing:unsubscribe": (
        "RFC 8058 one-click unsubscribe: mail providers POST without cookies; "
        "the signed token in the address is the authentication"
    ),
    "mailing:subscribe": (
        "public subscribe forms embedded on other sites post cross-site; a forged "
        "post makes at most one unconfirmed subscription and one email, throttled "
        "per IP and per address, with a honeypot (tests/mailing/test_subscribe.py)"
    ),
}
# The REST API: a Bearer token in a header is the authentication (a browser never
# sends one by itself), so a request without cookies or token must be a 401; a
# session is checked for CSRF by DRF (refused here as the superuser).
BEARER_AUTHENTICATED = "api:*"


def csrf_failure(request, reason=""):
    response = HttpResponseForbidden("csrf")
    response[CSRF_REFUSED] = reason or "refused"
    return response


def csrf_refused(response) -> bool:
    # Django's middleware, or Django REST framework's own check (Wagtail's admin
    # API is DRF, which exempts itself from the middleware and checks by itself).
    drf = response.status_code == 403 and b"CSRF Failed" in response.content
    return CSRF_REFUSED in response or drf


def exemption(name: str) -> str | None:
    for pattern, reason in TOKEN_AUTHENTICATED.items():
        if fnmatch.fnmatchcase(name, pattern):
            return reason
    return None


@override_settings(CSRF_FAILURE_VIEW="tests.security.test_csrf.csrf_failure")
def test_every_post_without_a_token_is_refused(world):
    result = walk(world.filler())
    result.print_summary("URL walk")
    refused, accepted, exempt_seen, no_post = 0, [], set(), set()
    for role in ("anonymous", "superuser"):
        http = world.client_for(role, enforce_csrf_checks=True)
        http.raise_request_exception = False
        # A browser that has the CSRF cookie but a forged form without the token:
        # the middleware must check the token, not just the cookie's presence.
        http.cookies[settings.CSRF_COOKIE_NAME] = _get_new_csrf_string()
        for target in result.targets:
            response = http.post(target.path, {"probe": "1"})
            if csrf_refused(response):
                refused += 1
            elif (
                fnmatch.fnmatchcase(target.route.name, BEARER_AUTHENTICATED)
                and response.status_code == 401
            ) or exemption(target.route.name):
                exempt_seen.add(target.route.name)
            elif outcome(response) in (NO_GET, LOGIN):
                # CSRF-exempt but takes no POST (Wagtail's read-only admin API is
                # DRF, which exempts itself): nothing can change.
                no_post.add(target.route.name)
            else:
                accepted.append(f"{target.path} ({target.route.name}) as {role}")
    print(
        f"CSRF: {refused} token-less POSTs refused, "
        f"{len(exempt_seen)} token-authenticated routes exempt, "
        f"{len(no_post)} exempt routes that take no POST"
    )
    assert not accepted, "POST without a CSRF token accepted:\n" + "\n".join(accepted)
    assert refused > 0


@pytest.mark.parametrize("role", ["anonymous", "superuser"])
def test_exempt_webhooks_refuse_a_request_without_basic_auth(world, role):
    """Exempt from CSRF, the tracking webhooks still need the ESP's secret.

    The secret is set here as production sets it (ANYMAIL_WEBHOOK_SECRET, which
    production settings require once an Anymail backend is chosen).
    """
    result = walk(world.filler())
    checked = 0
    http = world.client_for(role, enforce_csrf_checks=True)
    http.raise_request_exception = False
    anymail = {**settings.ANYMAIL, "WEBHOOK_SECRET": "esp:webhook-secret"}
    for target in result.targets:
        name = target.route.name
        if not fnmatch.fnmatchcase(name, "anymail:*_tracking_webhook"):
            continue
        with override_settings(ANYMAIL=anymail):
            response = http.post(target.path, "{}", content_type="application/json")
        assert response.status_code in (400, 401, 403), (name, response.status_code)
        checked += 1
    print(f"webhooks refusing requests without the secret: {checked}")
    assert checked > 0


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/accounts/login/", "Форма устарела"),
        ("/en/accounts/login/", "The form has expired"),
    ],
)
def test_a_refused_form_says_why_in_the_pages_language(client, path, title):
    """Django's own page said "Forbidden (403) CSRF verification failed" to a
    visitor whose form had only been open too long."""
    http = type(client)(enforce_csrf_checks=True)
    response = http.post(path, {"username": "a@example.org", "password": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert f'<h1 class="h3 mb-3">{title}</h1>' in page
    assert "CSRF" not in page
