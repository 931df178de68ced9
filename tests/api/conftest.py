import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from mailing.api.tokens import issue_token
from tests.factories import make_user


def bearer(raw: str, **headers) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}", **headers)
    return api


@pytest.fixture
def token_for():
    """A real token of `user` and an APIClient sending it."""

    def make(user, scope=ApiToken.Scope.READ_WRITE):
        _token, raw = issue_token(user, "test", scope)
        return bearer(raw)

    return make


@pytest.fixture
def owner(db):
    return make_user("mailing_user", email="owner@example.com")


ROLES = ("anonymous", "user_a", "user_b", "manager", "editor", "blocked", "superuser")


@pytest.fixture
def world(db):
    """User A owns one of everything (a finished run, an attempt, an event); every
    other role has a real read-write token (anonymous has none)."""
    from django.utils import timezone

    from mailing.models import Attempt, Event, MailingRun
    from tests.factories import make_client, make_mailing, make_message

    a = make_user("mailing_user", email="a@example.com")
    users = {
        "user_a": a,
        "user_b": make_user("mailing_user", email="b@example.com"),
        "manager": make_user("manager", email="manager@example.com"),
        "editor": make_user("editor", email="editor@example.com"),
        "blocked": make_user("mailing_user", email="blk@example.com"),
        "superuser": make_user("superuser", email="root@example.com"),
    }
    client = make_client(a, email="alice-client@example.org")
    from mailing.models import EmailLayout

    layout = EmailLayout.objects.create(owner=a, name="Layout of A")
    message = make_message(a, subject="Subject of A", layout=layout)
    mailing = make_mailing(a, name="Mailing of A", message=message, clients=[client])
    run = MailingRun.objects.create(
        mailing=mailing, kind="manual", slot=timezone.now(), status="finished"
    )
    attempt = Attempt.objects.create(
        run=run, mailing=mailing, client=client, status="success"
    )
    event = Event.objects.create(
        attempt=attempt,
        kind="opened",
        at=timezone.now(),
        source="pixel",
        dedupe_key="1",
    )
    from mailing.models import Suppression
    from mailing.suppression import suppress_address

    suppress_address(a.pk, "gone-of-a@example.org", "manual", "A's")
    suppressed = Suppression.objects.get(owner=a)
    from mailing.models import ClientField, Segment

    field = ClientField.objects.create(owner=a, key="city", label="City")
    segment = Segment.objects.create(
        owner=a, name="Segment of A", rules=[{"type": "tag", "op": "has", "value": "a"}]
    )
    from tests.factories import make_sender

    # Unconfirmed: its link may be sent again.
    sender = make_sender(a, confirmed=False, from_email="news-of-a@example.org")
    apis = {"anonymous": APIClient()}
    for role, user in users.items():
        _token, raw = issue_token(user, role, ApiToken.Scope.READ_WRITE)
        apis[role] = bearer(raw)
    # Blocked after the token was made: the token must stop working.
    type(users["blocked"]).objects.filter(pk=users["blocked"].pk).update(
        is_blocked=True
    )
    return {
        "users": users,
        "apis": apis,
        "ids": {
            "client": client.pk,
            "list": mailing.lists.get().pk,
            "suppression": suppressed.pk,
            "clientfield": field.pk,
            "segment": segment.pk,
            "message": message.pk,
            "layout": layout.pk,
            "sender": sender.pk,
            "mailing": mailing.pk,
            "run": run.pk,
            "attempt": attempt.pk,
            "event": event.pk,
            "user_a": a.pk,
        },
    }
