"""Recording engagement events through the real views: `make bench`.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/events.py

On the database of DATABASE_URL (migrated here; a mailing of --recipients clients
is added to it), posts one Postmark delivery webhook per attempt, matched by the
attempt token in its metadata, then fetches each recipient's open pixel, all
in-process through Django's test client (URL routing, basic auth, Anymail's
parsing, the event, its status change and counters in one transaction each).
Then the same deliveries for a second mailing as SparkPost posts them, --batch
events a request (mailing.event_batches: one transaction per request).
Prints events per second for each. Goal (issue 17): over 2,000 webhook events/s.
Events are recorded in their request here (WEBHOOK_EVENT_QUEUE=False): the cost
of recording itself; benchmarks/webhooks.py measures the queued path through
gunicorn.
"""

import argparse
import base64
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.test")
os.environ["WEBHOOK_EVENT_QUEUE"] = "False"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client as Browser

    from mailing.models import Attempt, MailingRun
    from mailing.services import open_run
    from mailing.tokens import attempt_token
    from tests.factories import make_client, make_mailing, make_user

    call_command("migrate", verbosity=0)
    # A new owner each run: the factories count from 1 in every process.
    owner = make_user(email=f"bench-{uuid.uuid4().hex}@example.com")
    clients = [make_client(owner) for _ in range(args.recipients)]
    mailing = make_mailing(owner, clients=clients)
    run = open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    ids = list(run.attempts.values_list("pk", flat=True))
    Attempt.objects.filter(run=run).update(status=Attempt.Status.SUCCESS)
    auth = "Basic " + base64.b64encode(b"test:webhook-secret").decode()
    http = Browser()

    bodies = [
        json.dumps(
            {
                "RecordType": "Delivery",
                "MessageID": f"pm-{pk}",
                "DeliveredAt": "2026-01-01T10:00:00Z",
                "Metadata": {"attempt": attempt_token(pk)},
            }
        )
        for pk in ids
    ]
    started, cpu = time.perf_counter(), time.process_time()
    _post_all(http, "/anymail/postmark/tracking/", bodies, auth)
    webhooks = len(ids) / (time.perf_counter() - started)
    webhook_cpu = (time.process_time() - cpu) / len(ids) * 1000

    started = time.perf_counter()
    for pk in ids:
        http.get(f"/t/o/{attempt_token(pk)}/", HTTP_USER_AGENT="Mozilla/5.0 (X11)")
    opens = len(ids) / (time.perf_counter() - started)

    delivered = run.attempts.filter(status=Attempt.Status.DELIVERED).count()
    assert delivered == len(ids), delivered
    batched, batched_cpu = _sparkpost_batches(http, auth, owner, clients, args.batch)
    print(f"webhook events/s (Postmark delivery, real view): {webhooks:,.0f}")
    # On a shared machine the wall clock measures the neighbours too.
    print(f"  Django process CPU per webhook event: {webhook_cpu:.2f} ms")
    print(f"open pixel events/s (real view):                {opens:,.0f}")
    print(f"webhook events/s (SparkPost, {args.batch} a request):   {batched:,.0f}")
    print(f"  Django process CPU per batched event: {batched_cpu:.3f} ms")


def _post_all(http, path: str, bodies: list[str], auth: str) -> None:
    for body in bodies:
        response = http.post(
            path, body, content_type="application/json", HTTP_AUTHORIZATION=auth
        )
        assert response.status_code == 200, response.content


def _sparkpost_batches(http, auth, owner, clients, size: int) -> tuple[float, float]:
    from mailing.models import Attempt, MailingRun
    from mailing.services import open_run
    from mailing.tokens import attempt_token
    from tests.factories import make_mailing

    mailing = make_mailing(owner, clients=clients)
    run = open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    run.attempts.update(status=Attempt.Status.SUCCESS)
    ids = list(run.attempts.values_list("pk", flat=True))
    events = [
        {"msys": {"message_event": {
            "type": "delivery", "event_id": f"sp-{pk}", "timestamp": "1767261600",
            "rcpt_to": "r@example.com", "rcpt_meta": {"attempt": attempt_token(pk)},
        }}}
        for pk in ids
    ]  # fmt: skip
    bodies = [json.dumps(events[i : i + size]) for i in range(0, len(events), size)]
    started, cpu = time.perf_counter(), time.process_time()
    _post_all(http, "/anymail/sparkpost/tracking/", bodies, auth)
    rate = len(ids) / (time.perf_counter() - started)
    cpu_each = (time.process_time() - cpu) / len(ids) * 1000
    delivered = run.attempts.filter(status=Attempt.Status.DELIVERED).count()
    assert delivered == len(ids), delivered
    return rate, cpu_each


if __name__ == "__main__":
    main()
