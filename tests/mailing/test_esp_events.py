"""Every ESP's tracking events, in the shapes of Anymail's own test payloads,
through the real webhook views (basic auth and, where the ESP signs, a valid
signature) into Event rows: kinds, soft vs hard bounces, suppression."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.test import Client as Browser
from django.test import override_settings

from mailing.models import Attempt, Client, Event, MailingRun
from mailing.services import open_run
from mailing.tokens import attempt_token
from mailing.webhooks import build_routes
from tests.factories import make_client, make_mailing, make_user
from tests.security.webhook_signers import (
    Keys,
    mailgun_signed,
    routes_as_configured,
    sns_wrapped,
    unisender_go_signed,
)

# One worker makes the ESP keys below once (make test: --dist loadgroup).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("esp_events")]

ESP_ID = "esp-msg-0001"
STAMP = 1700000000
K = Event.Kind
# A flow of one delivery, soft bounce, open, click and hard bounce, recorded.
ONE_OF_EACH = Counter([K.DELIVERED, K.SOFT_BOUNCE, K.OPENED, K.CLICKED, K.HARD_BOUNCE])
SNS_IDS = itertools.count()


@pytest.fixture(scope="module")
def keys():
    return Keys()


@pytest.fixture
def site(keys):
    overrides = {"ANYMAIL": keys.anymail_settings(), "WEBHOOK_ESPS": ["all"]}
    with override_settings(**overrides):
        assert not build_routes()[1]
    with routes_as_configured(**overrides):
        yield Site(keys, Browser())


@dataclass
class Site:
    keys: Keys
    http: Browser

    def post(self, esp: str, payload, *, form: dict | None = None, raw=None, sns=False):
        path = f"/anymail/{esp}/tracking/"
        headers, content_type = {}, "application/json"
        if form is not None:
            body, content_type = (
                urlencode(form).encode(),
                "application/x-www-form-urlencoded",
            )
        elif sns:
            # SNS notification ids are unique: Anymail uses them as event ids.
            body, headers = sns_wrapped(payload, f"sns-{next(SNS_IDS)}")
            content_type = "text/plain; charset=UTF-8"
        else:
            body = raw if raw is not None else json.dumps(payload).encode()
        signed = self.keys.headers(esp, path, body, form)
        response = self.http.generic(
            "POST", path, body, content_type, **signed, **headers
        )
        assert response.status_code == 200, response.content
        return response


@pytest.fixture
def attempt():
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner)])
    run = open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    row = run.attempts.get()
    Attempt.objects.filter(pk=row.pk).update(
        status=Attempt.Status.SUCCESS, esp_message_id=ESP_ID
    )
    return row


def kinds(attempt) -> Counter:
    """The kinds stored, in no order: a webhook's deliveries, opens and clicks are
    recorded by the event queue's task, after the request's bounces."""
    return Counter(attempt.events.values_list("kind", flat=True))


def suppressed(attempt) -> bool:
    return bool(Client.objects.get(pk=attempt.client_id).suppressed_reason)


def test_postmark(site, attempt):
    token = attempt_token(attempt.pk)

    def event(**fields):
        return {"MessageID": "x", "Metadata": {"attempt": token}, **fields}

    site.post(
        "postmark", event(RecordType="Delivery", DeliveredAt="2024-01-01T10:00:00Z")
    )
    site.post(
        "postmark",
        event(
            RecordType="Open",
            ReceivedAt="2024-01-01T10:01:00Z",
            UserAgent="Mozilla/5.0",
        ),
    )
    site.post(
        "postmark",
        event(
            RecordType="Click",
            ReceivedAt="2024-01-01T10:02:00Z",
            OriginalLink="https://example.org/a?utm_source=x",
        ),
    )
    site.post(
        "postmark",
        event(
            RecordType="Bounce",
            Type="SoftBounce",
            ID=1,
            Details="smtp;452 mailbox full",
        ),
    )
    assert not suppressed(attempt)
    site.post(
        "postmark",
        event(
            RecordType="Bounce",
            Type="HardBounce",
            ID=2,
            Details="smtp;550 5.1.1 no such user",
        ),
    )

    assert kinds(attempt) == Counter(
        [
            K.DELIVERED,
            K.OPENED,
            K.CLICKED,
            K.SOFT_BOUNCE,
            K.HARD_BOUNCE,
        ]
    )
    assert (
        attempt.events.get(kind=K.CLICKED).url == "https://example.org/a?utm_source=x"
    )
    assert suppressed(attempt)


def test_brevo_soft_bounce_does_not_suppress_a_hard_one_does(site, attempt):
    custom = json.dumps({"attempt": attempt_token(attempt.pk)})

    def event(name, **fields):
        return {
            "event": name,
            "email": "r@example.com",
            "ts_epoch": 1520363423000,
            "message-id": "<brevo@x>",
            "X-Mailin-custom": custom,
            **fields,
        }

    site.post("brevo", event("delivered"))
    site.post(
        "brevo", event("soft_bounce", reason="mailbox full", ts_epoch=1520363424000)
    )
    assert not suppressed(attempt)
    site.post("brevo", event("unique_proxy_open", ts_epoch=1520363425000))
    site.post(
        "brevo", event("click", link="https://example.org/", ts_epoch=1520363426000)
    )
    site.post(
        "brevo", event("hard_bounce", reason="no such user", ts_epoch=1520363427000)
    )

    assert kinds(attempt) == ONE_OF_EACH
    assert attempt.events.get(kind=K.OPENED).verdict == Event.Verdict.APPLE_MPP
    assert suppressed(attempt)


def test_mailjet_hard_bounce_false_is_soft(site, attempt):
    payload = json.dumps({"attempt": attempt_token(attempt.pk)})

    def event(name, **fields):
        return {
            "event": name,
            "time": STAMP,
            "MessageID": 12345678901234567,
            "email": "r@example.com",
            "Payload": payload,
            **fields,
        }

    site.post(
        "mailjet",
        [
            event("sent"),
            event(
                "open",
                time=STAMP + 1,
                agent="Mozilla/5.0 (via ggpht.com GoogleImageProxy)",
            ),
            event("click", time=STAMP + 2, url="https://example.org/"),
            event("bounce", time=STAMP + 3, hard_bounce=False, error="mailbox full"),
        ],
    )
    assert not suppressed(attempt)
    site.post("mailjet", [event("unsub", time=STAMP + 4)])

    assert kinds(attempt) == Counter(
        [
            K.DELIVERED,  # Mailjet's "sent": the receiving server took it
            K.OPENED,
            K.CLICKED,
            K.SOFT_BOUNCE,
            K.UNSUBSCRIBED,
        ]
    )
    assert Client.objects.get(pk=attempt.client_id).unsubscribed_at is not None
    assert attempt.events.get(kind=K.OPENED).verdict == Event.Verdict.PROXY
    site.post("mailjet", [event("bounce", time=STAMP + 5, hard_bounce=True)])
    assert suppressed(attempt)


def test_sparkpost_bounce_class_22_is_soft_10_is_hard(site, attempt):
    def event(kind, **fields):
        return {
            "msys": {
                "message_event": {
                    "type": kind,
                    "transmission_id": ESP_ID,
                    "timestamp": str(STAMP),
                    "rcpt_to": "r@example.com",
                    **fields,
                }
            }
        }

    site.post(
        "sparkpost",
        [
            event("delivery", event_id="1"),
            event(
                "bounce", event_id="2", bounce_class="22", raw_reason="452 mailbox full"
            ),
            event("open", event_id="3", user_agent="Mozilla/5.0"),
            event("click", event_id="4", target_link_url="https://example.org/"),
        ],
    )
    assert not suppressed(attempt)
    site.post("sparkpost", [event("bounce", event_id="5", bounce_class="10")])

    assert kinds(attempt) == ONE_OF_EACH
    assert suppressed(attempt)


def test_mailgun(site, attempt):
    def event(name, **fields):
        data = {
            "event": name,
            "timestamp": STAMP,
            "id": name + str(len(fields)),
            "recipient": "r@example.com",
            "user-variables": {"attempt": attempt_token(attempt.pk)},
            "message": {"headers": {"message-id": "mg@x"}},
            **fields,
        }
        return mailgun_signed({"event-data": data}, site.keys.hmac_secret)

    site.post("mailgun", event("delivered"))
    site.post("mailgun", event("failed", severity="temporary"))
    site.post("mailgun", event("opened", **{"client-info": {"user-agent": "Mozilla"}}))
    site.post("mailgun", event("clicked", url="https://example.org/"))
    site.post(
        "mailgun",
        event(
            "failed",
            severity="permanent",
            reason="bounce",
            **{"delivery-status": {"code": 550, "message": "no"}},
        ),
    )

    assert kinds(attempt) == Counter(
        [
            K.DELIVERED,
            K.DEFERRED,
            K.OPENED,
            K.CLICKED,
            K.HARD_BOUNCE,
        ]
    )
    assert suppressed(attempt)


def test_sendgrid_blocked_is_soft_bounce_is_hard(site, attempt):
    def event(name, n, **fields):
        return {
            "event": name,
            "email": "r@example.com",
            "timestamp": STAMP + n,
            "sg_event_id": f"sg-{n}",
            "anymail_id": ESP_ID,
            **fields,
        }

    site.post(
        "sendgrid",
        [
            event("delivered", 1),
            event("bounce", 2, type="blocked", reason="452 try later"),
            event("open", 3, useragent="Mozilla/5.0"),
            event("click", 4, url="https://example.org/"),
            event("dropped", 5, reason="Bounced Address"),
            event("spamreport", 6),
        ],
    )

    assert kinds(attempt) == Counter(
        [
            K.DELIVERED,
            K.SOFT_BOUNCE,
            K.OPENED,
            K.CLICKED,
            K.REJECTED,
            K.COMPLAINED,
        ]
    )
    assert suppressed(attempt)  # the complaint


def ses(notification: str, message_id: str, **fields) -> dict:
    return {
        "notificationType": notification,
        "mail": {
            "messageId": message_id,
            "timestamp": "2024-01-01T10:00:00Z",
            "destination": ["r@example.com"],
            "headers": [],
        },
        **fields,
    }


def test_amazon_ses_transient_bounce_is_soft(site, attempt):
    def bounce(kind, feedback):
        return ses(
            "Bounce",
            ESP_ID,
            bounce={
                "bounceType": kind,
                "bounceSubType": "General",
                "feedbackId": feedback,
                "timestamp": "2024-01-01T10:05:00Z",
                "bouncedRecipients": [
                    {
                        "emailAddress": "r@example.com",
                        "diagnosticCode": "smtp; 452 full",
                    }
                ],
            },
        )

    site.post(
        "amazon_ses",
        ses(
            "Delivery",
            ESP_ID,
            delivery={
                "timestamp": "2024-01-01T10:01:00Z",
                "recipients": ["r@example.com"],
            },
        ),
        sns=True,
    )
    site.post("amazon_ses", bounce("Transient", "f-1"), sns=True)
    assert not suppressed(attempt)
    site.post("amazon_ses", bounce("Permanent", "f-2"), sns=True)

    assert kinds(attempt) == Counter([K.DELIVERED, K.SOFT_BOUNCE, K.HARD_BOUNCE])
    assert suppressed(attempt)


def test_resend(site, attempt):
    def event(kind, stamp, **data):
        return {
            "type": kind,
            "created_at": stamp,
            "data": {
                "email_id": ESP_ID,
                "created_at": stamp,
                "to": ["r@example.com"],
                **data,
            },
        }

    site.post("resend", event("email.delivered", "2024-01-01T10:00:00Z"))
    site.post("resend", event("email.opened", "2024-01-01T10:01:00Z"))
    site.post(
        "resend",
        event(
            "email.clicked",
            "2024-01-01T10:02:00Z",
            click={"link": "https://example.org/", "userAgent": "M"},
        ),
    )
    site.post(
        "resend",
        event(
            "email.bounced",
            "2024-01-01T10:03:00Z",
            bounce={"message": "hard bounce", "type": "Permanent"},
        ),
    )

    assert kinds(attempt) == Counter([K.DELIVERED, K.OPENED, K.CLICKED, K.HARD_BOUNCE])
    assert suppressed(attempt)


def test_mailersend_soft_bounced(site, attempt):
    def event(kind, n, **data):
        return {
            "type": f"activity.{kind}",
            "data": {
                "object": "activity",
                "id": f"ms-{n}",
                "type": kind,
                "created_at": f"2024-01-01T10:0{n}:00Z",
                "email": {"message": {"id": ESP_ID}, "recipient": {"email": "r@x.org"}},
                **data,
            },
        }

    site.post("mailersend", event("delivered", 1))
    site.post(
        "mailersend",
        event(
            "soft_bounced",
            2,
            morph={"object": "recipient_bounce", "reason": "mailbox full"},
        ),
    )
    assert not suppressed(attempt)
    site.post("mailersend", event("opened", 3))
    site.post("mailersend", event("spam_complaint", 4))

    assert kinds(attempt) == Counter(
        [K.DELIVERED, K.SOFT_BOUNCE, K.OPENED, K.COMPLAINED]
    )
    assert suppressed(attempt)


def test_mandrill_soft_bounce(site, attempt):
    def event(name, n, **fields):
        return {
            "event": name,
            "ts": STAMP + n,
            "_id": ESP_ID,
            "msg": {
                "email": "r@example.com",
                "metadata": {"attempt": attempt_token(attempt.pk)},
            },
            **fields,
        }

    events = [
        event("send", 0),
        event("soft_bounce", 1),
        event("open", 2),
        event("click", 3, url="https://example.org/"),
        event("hard_bounce", 4),
    ]
    site.post("mandrill", None, form={"mandrill_events": json.dumps(events)})

    assert kinds(attempt) == Counter(
        [K.SOFT_BOUNCE, K.OPENED, K.CLICKED, K.HARD_BOUNCE]
    )
    assert suppressed(attempt)


def test_postal(site, attempt):
    def event(n, **payload):
        return {
            "event": "x",
            "timestamp": STAMP + n,
            "uuid": f"p-{n}",
            "payload": payload,
        }

    message = {"id": ESP_ID, "to": "r@example.com"}
    site.post("postal", event(1, status="Sent", message=message, output="250 ok"))
    site.post("postal", event(2, status="SoftFail", message=message, output="451"))
    site.post("postal", event(3, url="https://example.org/", message=message))
    site.post("postal", event(4, bounce={"id": 9}, original_message=message))

    assert kinds(attempt) == Counter(
        [K.DELIVERED, K.DEFERRED, K.CLICKED, K.HARD_BOUNCE]
    )


def test_postal_hard_fail_from_the_recipients_server_suppresses(site, attempt):
    """Postal's HardFail comes through Anymail as `failed`: with the remote
    server's 5xx it is a hard bounce; without a reply it stays a rejection."""
    message = {"id": ESP_ID, "to": "r@example.com"}

    def hard_fail(n, output):
        payload = {"status": "HardFail", "message": message, "output": output}
        return {
            "event": "x",
            "timestamp": STAMP + n,
            "uuid": f"h-{n}",
            "payload": payload,
        }

    site.post("postal", hard_fail(1, ""))
    assert kinds(attempt) == Counter([K.REJECTED])
    assert not suppressed(attempt)

    site.post("postal", hard_fail(2, "550 5.1.1 No such user"))
    assert kinds(attempt) == Counter([K.REJECTED, K.HARD_BOUNCE])
    assert suppressed(attempt)


def test_mailtrap(site, attempt):
    def event(name, n, **fields):
        return {
            "event": name,
            "timestamp": STAMP + n,
            "event_id": f"mt-{n}",
            "message_id": ESP_ID,
            "email": "r@example.com",
            "custom_variables": {"attempt": attempt_token(attempt.pk)},
            **fields,
        }

    site.post(
        "mailtrap",
        {
            "events": [
                event("delivery", 1),
                event("soft bounce", 2),
                event("open", 3),
                event("click", 4, url="https://example.org/"),
                event("spam", 5),
            ]
        },
    )

    assert kinds(attempt) == Counter(
        [
            K.DELIVERED,
            K.DEFERRED,
            K.OPENED,
            K.CLICKED,
            K.COMPLAINED,
        ]
    )


def test_unisender_go(site, attempt):
    def event(status, n, **fields):
        return {
            "event_name": "transactional_email_status",
            "event_data": {
                "status": status,
                "email": "r@example.com",
                "job_id": "j",
                "event_time": f"2024-01-01 10:0{n}:00",
                "metadata": {"anymail_id": ESP_ID},
                **fields,
            },
        }

    payload = {
        "events_by_user": [
            {
                "events": [
                    event("delivered", 1),
                    event("soft_bounced", 2),
                    event("opened", 3),
                    event("clicked", 4, url="https://example.org/"),
                    event("hard_bounced", 5),
                ]
            }
        ]
    }
    site.post(
        "unisender_go", None, raw=unisender_go_signed(payload, "hostile-walk-hmac")
    )

    assert kinds(attempt) == Counter(
        [
            K.DELIVERED,
            K.DEFERRED,
            K.OPENED,
            K.CLICKED,
            K.HARD_BOUNCE,
        ]
    )
    assert suppressed(attempt)


def test_the_same_event_twice_is_stored_once(site, attempt):
    bounce = {
        "RecordType": "Bounce",
        "Type": "SoftBounce",
        "ID": 7,
        "MessageID": ESP_ID,
        "Details": "smtp;452 full",
    }
    site.post("postmark", bounce)
    site.post("postmark", bounce)

    assert kinds(attempt) == Counter([K.SOFT_BOUNCE])


def test_three_soft_bounces_in_thirty_days_suppress(site, attempt):
    for n in range(1, 4):
        assert not suppressed(attempt)
        site.post(
            "postmark",
            {
                "RecordType": "Bounce",
                "Type": "SoftBounce",
                "ID": n,
                "MessageID": ESP_ID,
                "Details": "smtp;452 full",
            },
        )

    assert kinds(attempt) == Counter({K.SOFT_BOUNCE: 3})
    reason = Client.objects.get(pk=attempt.client_id).suppressed_reason
    assert reason
