"""A whole campaign through the API alone, with a real token (issue 15, Must show):
bulk-upsert 1,000 clients, a message, a mailing, send now, poll the run to its
end, read the attempts; the SMTP sink on loopback got each recipient once."""

from collections import Counter

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import ApiToken
from mailing.api.tokens import issue_token
from tests.factories import make_user
from tests.mailing.smtp_servers import smtp_server, smtp_settings

from .conftest import bearer

RECIPIENTS = 1000


class Sink:
    def __init__(self):
        self.received = Counter()

    async def handle_DATA(self, server, session, envelope):
        self.received.update(address.lower() for address in envelope.rcpt_tos)
        return "250 OK"


def all_pages(api, url: str) -> list[dict]:
    rows = []
    while url:
        answer = api.get(url)
        assert answer.status_code == 200, answer.content
        rows += answer.json()["results"]
        url = answer.json()["next"]
    return rows


@pytest.mark.django_db(transaction=True)
def test_a_campaign_through_the_api_alone():
    owner = make_user("mailing_user", email="integrator@example.com")
    _token, raw = issue_token(owner, "CRM", ApiToken.Scope.READ_WRITE)
    api = bearer(raw)
    emails = [f"Reader{n}@Example.org" for n in range(RECIPIENTS)]

    readers = api.post("/api/v1/lists/", {"name": "Readers"}, format="json")
    assert readers.status_code == 201, readers.content
    list_id = readers.json()["id"]
    upsert = api.post(
        "/api/v1/clients/bulk/",
        {
            "list": list_id,
            "clients": [
                {"email": e, "full_name": f"Reader {n}"} for n, e in enumerate(emails)
            ],
        },
        format="json",
    )
    assert upsert.status_code == 200, upsert.content
    report = upsert.json()
    assert (report["created"], report["updated"], report["errors"]) == (
        RECIPIENTS,
        0,
        [],
    )
    client_ids = {report["ids"][str(n)] for n in range(RECIPIENTS)}
    assert len(client_ids) == RECIPIENTS

    message = api.post(
        "/api/v1/messages/",
        {"subject": "News for {{ full_name }}", "body": "Hello {{ full_name }}"},
        format="json",
    )
    assert message.status_code == 201, message.content
    mailing = api.post(
        "/api/v1/mailings/",
        {
            "name": "API campaign",
            "message": message.json()["id"],
            "lists": [list_id],
            "first_send_at": (timezone.now() + timezone.timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    assert mailing.status_code == 201, mailing.content
    mailing_id = mailing.json()["id"]

    sink = Sink()
    with smtp_server(sink) as port, override_settings(**smtp_settings(port)):
        # Huey runs inline under the test settings: the run is sent once the
        # request's transaction commits, as a consumer would send it.
        run = api.post(f"/api/v1/mailings/{mailing_id}/send-now/")
        assert run.status_code == 201, run.content
        run_id = run.json()["id"]
        for _poll in range(50):
            progress = api.get(f"/api/v1/runs/{run_id}/").json()
            if progress["status"] not in ("pending", "running"):
                break
    assert progress["status"] == "finished", progress
    assert (progress["done"], progress["total"], progress["percent"]) == (
        RECIPIENTS,
        RECIPIENTS,
        100,
    )

    attempts = all_pages(api, f"/api/v1/attempts/?run={run_id}&limit=300")
    assert len(attempts) == RECIPIENTS
    assert {a["status"] for a in attempts} == {"success"}
    assert sorted(a["email"].lower() for a in attempts) == sorted(
        e.lower() for e in emails
    )
    assert set(sink.received.values()) == {1}
    assert set(sink.received) == {e.lower() for e in emails}
