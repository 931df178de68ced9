import pytest
from django.utils import timezone

from mailing.models import Attempt, MailingRun
from tests.factories import make_client, make_mailing, make_message, make_user
from tests.mailing.smtp_servers import pipelining  # noqa: F401 - both server kinds


@pytest.fixture
def world(db):
    """User A owns one of everything; B, a manager, an editor, a blocked user, root."""
    a = make_user("mailing_user", email="a@example.com")
    b = make_user("mailing_user", email="b@example.com")
    client = make_client(a, email="alice-client@example.org", full_name="Alice Client")
    message = make_message(a, subject="Subject of A")
    mailing = make_mailing(a, name="Mailing of A", message=message, clients=[client])
    run = MailingRun.objects.create(
        mailing=mailing, kind="manual", slot=timezone.now(), status="finished"
    )
    attempt = Attempt.objects.create(
        run=run,
        mailing=mailing,
        client=client,
        status="failure",
        attempted_at=timezone.now(),
        server_response="550 mailbox of A unknown",
    )
    return {
        "users": {
            "user_a": a,
            "user_b": b,
            "manager": make_user("manager", email="manager@example.com"),
            "editor": make_user("editor", email="editor@example.com"),
            "blocked": make_user(
                "mailing_user", email="blocked@example.com", is_blocked=True
            ),
            "superuser": make_user("superuser", email="root@example.com"),
        },
        "objects": {
            "client": client,
            "message": message,
            "mailing": mailing,
            "attempt": attempt,
            "list": mailing.lists.get(),
        },
        # Text that appears on a page only when A's object is shown.
        "markers": {
            "client": "alice-client@example.org",
            "message": "Subject of A",
            "mailing": "Mailing of A",
            "attempt": "alice-client@example.org",
            "list": "Mailing of A — получатели",
        },
    }
