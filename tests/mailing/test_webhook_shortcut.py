"""ESP webhooks go straight to their view (mailing.webhook_shortcut): none of
the middleware after SecurityMiddleware runs for them, and every other path,
a mistyped webhook address included, still goes through the whole chain."""

import base64
import json

import pytest
from django.test import Client as Browser
from django.urls import resolve

from mailing.models import Attempt
from mailing.tokens import attempt_token
from tests.factories import make_sent_attempts

pytestmark = pytest.mark.django_db

AUTH = "Basic " + base64.b64encode(b"test:webhook-secret").decode()


def post(path: str, attempt_id: int, auth: str = AUTH):
    body = {
        "RecordType": "Delivery",
        "MessageID": f"pm-{attempt_id}",
        "DeliveredAt": "2026-01-01T10:00:00Z",
        "Metadata": {"attempt": attempt_token(attempt_id)},
    }
    return Browser().post(
        path, json.dumps(body), content_type="application/json",
        HTTP_AUTHORIZATION=auth, HTTP_ACCEPT_LANGUAGE="ru",
    )  # fmt: skip


def test_a_webhook_skips_sessions_locale_and_frames_but_not_security():
    (a,) = make_sent_attempts(1)
    response = post("/anymail/postmark/tracking/", a)
    assert response.status_code == 200
    assert Attempt.objects.get(pk=a).status == Attempt.Status.DELIVERED
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware
    for header in ("Content-Language", "X-Frame-Options", "Vary", "Set-Cookie"):
        assert header not in response, header  # locale, clickjacking, session
    assert response.wsgi_request.resolver_match.url_name == "postmark_tracking_webhook"
    assert not hasattr(response.wsgi_request, "user")  # no AuthenticationMiddleware


def test_a_refused_webhook_is_answered_by_its_view_too():
    (a,) = make_sent_attempts(1)
    response = Browser().post(
        "/anymail/postmark/tracking/", "{}", content_type="application/json"
    )
    assert response.status_code == 400  # Anymail's basic auth, our plain answer
    assert "Content-Language" not in response
    assert Attempt.objects.get(pk=a).status == Attempt.Status.SUCCESS


def test_an_address_that_is_no_webhook_goes_through_the_whole_chain():
    (a,) = make_sent_attempts(1)
    response = post("/anymail/no-such-esp/tracking/", a)
    assert response.status_code == 404
    assert response["Content-Language"] == "ru"  # LocaleMiddleware ran
    assert hasattr(response.wsgi_request, "user")
    assert Attempt.objects.get(pk=a).status == Attempt.Status.SUCCESS


def test_each_request_copies_a_view_built_once_per_settings(monkeypatch, settings):
    view_class = resolve("/anymail/postmark/tracking/").func.view_class
    built, init = [], view_class.__init__

    def counted_init(self, **kwargs):
        built.append(self)
        init(self, **kwargs)

    monkeypatch.setattr(view_class, "__init__", counted_init)
    # A settings change drops the built views: the new secret is in force at once.
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "other:secret"}
    other = "Basic " + base64.b64encode(b"other:secret").decode()
    attempts = make_sent_attempts(3)
    for a in attempts:
        assert post("/anymail/postmark/tracking/", a, other).status_code == 200
    assert len(built) == 1
    assert post("/anymail/postmark/tracking/", attempts[0]).status_code == 400
    delivered = Attempt.objects.filter(pk__in=attempts, status=Attempt.Status.DELIVERED)
    assert delivered.count() == 3


def test_webhook_views_keep_anymails_marks_and_only_skip_its_trivial_dispatch():
    """Our view functions carry the marks Anymail's dispatch decorators give
    (CSRF exempt, no login), and skip that dispatch: this fails when an Anymail
    view gains a dispatch of its own, whose work would then be skipped."""
    from anymail.urls import urlpatterns as anymail_patterns
    from anymail.webhooks.base import AnymailCoreWebhookView
    from django.views.generic import View

    from mailing.webhooks import AnswersUnreadableInputWith400, _guarded

    for pattern in anymail_patterns:
        ours = _guarded(pattern).callback
        assert ours.csrf_exempt is True and ours.login_required is False
        mro = ours.view_class.__mro__
        between = mro[mro.index(AnswersUnreadableInputWith400) + 1 : mro.index(View)]
        defining = [c for c in between if "dispatch" in vars(c)]
        assert defining == [AnymailCoreWebhookView], (pattern.name, defining)
