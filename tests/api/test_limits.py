"""Rate limits per token (429 with Retry-After), Idempotency-Key on POST, errors as
JSON in the request's language, per-row errors of the bulk upsert."""

import pytest

from accounts.models import ApiToken, IdempotentRequest
from mailing.api.throttling import TokenRateThrottle
from mailing.models import Client, Mailing, MailingRun
from tests.factories import make_client, make_mailing

pytestmark = pytest.mark.django_db


def test_each_token_has_its_own_rate_limit(owner, token_for, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": "3/min"})
    first, second = token_for(owner), token_for(owner)
    answers = [first.get("/api/v1/clients/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = first.get("/api/v1/clients/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    wait = int(refused["Retry-After"])
    english = first.get("/api/v1/clients/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["message"].startswith("Too many requests: try again in")
    russian = first.get("/api/v1/clients/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert russian["message"].startswith("Слишком много запросов: повторите через")
    assert str(wait) in russian["message"] or str(wait - 1) in russian["message"]
    assert second.get("/api/v1/clients/").status_code == 200


def test_a_retried_post_creates_nothing_and_gets_the_first_answer(owner, token_for):
    api = token_for(owner)
    body = {"email": "once@example.org", "full_name": "Once"}
    first = api.post("/api/v1/clients/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = api.post("/api/v1/clients/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Client.objects.filter(owner=owner).count() == 1
    other = api.post(
        "/api/v1/clients/",
        {**body, "email": "other@example.org"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_a_retried_send_now_opens_one_run(owner, token_for):
    mailing = make_mailing(owner, clients=[make_client(owner)])
    api = token_for(owner)
    url = f"/api/v1/mailings/{mailing.pk}/send-now/"
    first = api.post(url, HTTP_IDEMPOTENCY_KEY="send-1")
    again = api.post(url, HTTP_IDEMPOTENCY_KEY="send-1")
    assert first.status_code == 201, first.content
    assert again.json()["id"] == first.json()["id"]
    assert MailingRun.objects.filter(mailing=mailing).count() == 1
    # Without the key, a second request is the mailing's rule: one open run.
    third = api.post(url)
    assert third.status_code == 409, third.content  # the first run is still open
    assert MailingRun.objects.filter(mailing=mailing).count() == 1


def test_a_retry_while_the_first_is_running_is_told_so(owner, token_for):
    import json

    from django.test import RequestFactory

    from mailing.api.idempotency import fingerprint

    url, body = "/api/v1/clients/", json.dumps({"email": "x@example.org"})
    running = RequestFactory().post(url, body, content_type="application/json")
    IdempotentRequest.objects.create(
        user=owner, key="busy", fingerprint=fingerprint(running)
    )
    answer = token_for(owner).post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "idempotency_conflict"
    assert not Client.objects.filter(owner=owner).exists()


def test_keys_are_forgotten_after_a_day(owner, token_for):
    from datetime import timedelta

    from django.utils import timezone

    from mailing.api.idempotency import sweep

    body = {"email": "k@example.org", "full_name": "K"}
    token_for(owner).post(
        "/api/v1/clients/", body, format="json", HTTP_IDEMPOTENCY_KEY="d"
    )
    assert sweep(timezone.now()) == 0
    assert sweep(timezone.now() + timedelta(hours=25)) == 1


def test_a_key_is_the_users_own(owner, token_for):
    from tests.factories import make_user

    other = make_user("mailing_user")
    body = {"email": "same@example.org", "full_name": "Same"}
    token_for(owner).post(
        "/api/v1/clients/", body, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    theirs = token_for(other).post(
        "/api/v1/clients/", body, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != Client.objects.get(owner=owner).pk
    assert IdempotentRequest.objects.filter(key="k").count() == 2


@pytest.mark.parametrize(
    "language,expected",
    [("en", "Invalid email"), ("ru", "Неверный адрес")],
)
def test_errors_name_the_field_in_the_requests_language(
    owner, token_for, language, expected
):
    api = token_for(owner)
    answer = api.post(
        "/api/v1/clients/",
        {"email": "no-at-sign", "full_name": "X"},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["email"]
    assert body["message"]
    missing = api.get("/api/v1/clients/999999/", HTTP_ACCEPT_LANGUAGE=language)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert ("Not found" in missing.json()["message"]) == (language == "en")


def test_bulk_upsert_writes_the_good_rows_and_lists_the_bad(owner, token_for):
    make_client(owner, email="known@example.org", full_name="Old name")
    rows = [
        {"email": "KNOWN@example.org", "full_name": "New name"},
        {"email": "fresh@example.org"},
        {"email": "not an address"},
        {"email": "fresh@EXAMPLE.org", "full_name": "Twice"},
        {"email": "zone@example.org", "time_zone": "Mars/Olympus"},
        "not an object",
    ]
    answer = token_for(owner).post(
        "/api/v1/clients/bulk/", {"clients": rows}, format="json"
    )
    assert answer.status_code == 200, answer.content
    report = answer.json()
    assert (report["created"], report["updated"]) == (1, 1)
    assert sorted((e["row"], e["field"]) for e in report["errors"]) == [
        (2, "email"),
        (3, "email"),
        (4, "time_zone"),
        (5, "email"),
    ]
    assert Client.objects.get(owner=owner, email="known@example.org").full_name == (
        "New name"
    )
    assert Client.objects.filter(owner=owner).count() == 2
    assert set(report["ids"]) == {"0", "1"}


def test_bulk_upsert_refuses_more_than_ten_thousand(owner, token_for):
    rows = [{"email": f"r{n}@example.org"} for n in range(10_001)]
    answer = token_for(owner).post(
        "/api/v1/clients/bulk/", {"clients": rows}, format="json"
    )
    assert answer.status_code == 400
    assert "clients" in answer.json()["fields"]
    assert not Client.objects.filter(owner=owner).exists()


def test_a_revoked_token_or_a_blocked_owner_is_refused(owner, token_for):
    from mailing.api.tokens import issue_token, revoke_token

    from .conftest import bearer

    token, raw = issue_token(owner, "t", ApiToken.Scope.READ)
    api = bearer(raw)
    assert api.get("/api/v1/mailings/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    assert raw not in str(list(ApiToken.objects.values()))  # only the digest
    revoke_token(token)
    refused = api.get("/api/v1/mailings/")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Bearer"
    assert bearer(raw + "x").get("/api/v1/mailings/").status_code == 401
    _token, raw = issue_token(owner, "t2", ApiToken.Scope.READ)
    type(owner).objects.filter(pk=owner.pk).update(is_blocked=True)
    assert bearer(raw).get("/api/v1/mailings/").status_code == 401
    assert Mailing.objects.count() == 0


def test_a_bulk_upsert_keeps_a_suppressed_address_out(owner, token_for):
    from mailing.suppression import suppress_address

    suppress_address(owner.pk, "gone@example.org", "unsubscribe")
    suppress_address(owner.pk, "bounced@example.org", "hard_bounce")

    answer = token_for(owner).post(
        "/api/v1/clients/bulk/",
        {"clients": [{"email": "gone@example.org"}, {"email": "bounced@example.org"}]},
        format="json",
    )

    assert answer.status_code == 200, answer.content
    gone = Client.objects.get(email="gone@example.org")
    bounced = Client.objects.get(email="bounced@example.org")
    assert gone.unsubscribed_at is not None
    assert bounced.suppressed_reason != ""


def test_a_mailing_needs_an_audience(owner, token_for):
    from tests.factories import make_message

    api = token_for(owner)
    body = {
        "name": "To nobody",
        "message": make_message(owner).pk,
        "first_send_at": "2030-01-01T10:00:00Z",
    }

    refused = api.post("/api/v1/mailings/", body, format="json")
    made = api.post("/api/v1/mailings/", {**body, "all_clients": True}, format="json")

    assert refused.status_code == 400 and "lists" in refused.json()["fields"]
    assert made.status_code == 201, made.content


def test_a_body_over_the_upload_limit_is_refused_as_json(owner, token_for, settings):
    """Django's RequestDataTooBig escaped the API's handler: an HTML 400 page
    with no reason, to a client that reads JSON."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api = token_for(owner)
    body = {"subject": "Big", "body": "x" * 2000}
    refused = api.post(
        "/api/v1/messages/", body, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 413
    assert refused["Content-Type"] == "application/json"
    assert refused.json() == {
        "code": "too_large",
        "message": "The request is too large: send at most 1000\xa0bytes at once.",
    }
