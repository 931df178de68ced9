"""No input loses a recipient: addresses normalised at input, screened at send.

The send test puts unchecked rows straight into the database (as a shell or a data
migration would) among 1,000 ordinary ones and sends the run through a real SMTP
server on loopback, with Vestnik's backend and with Django's own.
"""

import pytest
from django.core.validators import validate_email
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from mailing import services
from mailing.addresses import (
    PLAIN_ADDRESS,
    AddressError,
    clean_name,
    normalise_email,
    normalise_name,
    screen,
)
from mailing.models import Attempt, Client, MailingRun
from mailing.sending import pipeline
from tests.factories import import_file, make_mailing, make_user, rejected_lines

from .smtp_servers import RecordingHandler, smtp_server, smtp_settings

pytestmark = pytest.mark.django_db

IDN = "ivan@пример.рф"
IDN_SENT = "ivan@xn--e1afmkfd.xn--p1ai"
LONG_LOCAL = "l" * 65 + "@example.org"
LONG_DOMAIN = "a@" + ("d" * 63 + ".") * 4 + "org"  # a 259-character domain
LONG_TOTAL = "t" * 64 + "@" + ("d" * 62 + ".") * 3 + "orgorgorg"  # 255 characters


def test_idn_domains_become_idna_and_domains_lower_case():
    assert normalise_email(IDN) == IDN_SENT
    assert normalise_email("  Anna@ПРИМЕР.РФ ") == "Anna@xn--e1afmkfd.xn--p1ai"
    assert normalise_email("Bob@Example.ORG") == "Bob@example.org"


@pytest.mark.parametrize(
    ("address", "words"),
    [
        (LONG_LOCAL, "64"),
        ("a@" + "d" * 250 + ".org", "253"),
        (LONG_TOTAL, "254"),
        ("иван@example.org", "@"),
        ("no-at-sign", "no-at-sign"),
        ("a@-bad-.рф", "-bad-.рф"),
    ],
)
def test_unsendable_addresses_are_refused_with_the_reason(address, words):
    with pytest.raises(AddressError) as refused:
        normalise_email(address)
    assert words in str(refused.value)


EDGE_ADDRESSES = [
    "a@b.ru",
    "o'neil+tag@mail.example.co.uk",
    "x-1@a-b.c-d.org",
    "a..b@example.org",
    ".a@example.org",
    "a.@example.org",
    "a@-x.org",
    "a@x-.org",
    "a@x..org",
    "a@x.o",
    "a@x.r1",
    "a@x.org.",
    "a@xn--e1afmkfd.xn--p1ai",
    '"quoted"@example.org',
    "a@[127.0.0.1]",
    "a@localhost",
    "a@" + "d" * 64 + ".org",
    "a@example.org\n",
]


@pytest.mark.parametrize("address", EDGE_ADDRESSES)
def test_the_plain_address_shortcut_accepts_only_what_django_accepts(address):
    """The import's fast check (one regular expression) is a subset of Django's
    EmailValidator: if Django's rules ever tighten, this fails."""
    if PLAIN_ADDRESS.match(address):
        validate_email(address)


def test_the_plain_address_shortcut_takes_the_usual_addresses():
    assert [a for a in EDGE_ADDRESSES if PLAIN_ADDRESS.match(a)] == EDGE_ADDRESSES[:3]


def test_control_characters_leave_names():
    assert clean_name("Ann\x0bMarie\x0cSmith\r\nJr\x00.\t") == "Ann Marie Smith Jr."
    assert clean_name("Zoë\u200dZ") == "Zoë\u200dZ"  # joiners are text, kept
    with pytest.raises(AddressError):
        normalise_name("n" * 256)


def test_screen_repairs_what_it_can_and_refuses_the_rest():
    rows = [
        (1, 1, 10, "ok@example.org", "Ok"),
        (2, 1, 11, IDN, "Ivan\x0bIvanov"),
        (3, 1, 12, LONG_LOCAL, "Long"),
    ]
    sendable, refused = screen(rows, email_at=3, name_at=4)
    assert sendable == [rows[0], (2, 1, 11, IDN_SENT, "Ivan Ivanov")]
    assert [(row[0], "64" in reason) for row, reason in refused] == [(3, True)]


def test_client_form_stores_the_sendable_form(client):
    owner = make_user()
    client.force_login(owner)
    response = client.post(
        reverse("mailing_client:add"),
        {"email": IDN, "full_name": "Иван\x0bПетров\x0c"},
    )
    assert response.status_code == 302
    saved = Client.objects.get(owner=owner)
    assert (saved.email, saved.full_name) == (IDN_SENT, "Иван Петров")

    response = client.post(
        reverse("mailing_client:add"), {"email": LONG_LOCAL, "full_name": "Long"}
    )
    assert response.status_code == 200
    assert "64" in str(response.context["form"].errors["email"])
    # The same IDN typed again is the same client.
    response = client.post(
        reverse("mailing_client:add"), {"email": "IVAN@пример.рф", "full_name": "I"}
    )
    assert "email" in response.context["form"].errors


def test_full_clean_normalises_any_caller():
    owner = make_user()
    client = Client(owner=owner, email=IDN, full_name="A\x0cB")
    client.full_clean()
    assert (client.email, client.full_name) == (IDN_SENT, "A B")


def test_import_normalises_and_reports_each_bad_row(tmp_path):
    owner = make_user()
    path = tmp_path / "clients.csv"
    path.write_text(
        "email,name\n"
        f"{IDN},Иван\x0bИванов\n"  # 2: imported as IDNA, name cleaned
        f"{LONG_LOCAL},Long\n"  # 3
        "good@example.org,Good\x0c\n"  # 4
        f"{LONG_DOMAIN},Domain\n"  # 5
        "петя@example.org,Петя\n"  # 6
        "last@example.org,Last\n",  # 7
        encoding="utf-8",
    )
    job = import_file(owner, path)
    reasons = rejected_lines(job)
    assert set(reasons) == {3, 5, 6}
    assert "64" in reasons[3] and "@" in reasons[6]
    assert job.created == 3
    saved = Client.objects.filter(owner=owner).values_list("email", "full_name")
    assert dict(saved) == {
        IDN_SENT: "Иван Иванов",
        "good@example.org": "Good",
        "last@example.org": "Last",
    }


# --- At send ----------------------------------------------------------------------

REPAIRED = {IDN: IDN_SENT, "ctl@example.org": "ctl@example.org"}
# What the column holds but no transport can send (longer ones do not fit in it).
REFUSED = [LONG_LOCAL, "a@" + "d" * 64 + ".org", "юзер@example.org", "a@b@example.org"]


def mailing_with_unchecked_rows(ordinary: int):
    """Bad rows among the ordinary ones, written with bulk_create (no clean())."""
    owner = make_user()
    rows = [Client(owner=owner, email=f"r{n}@example.org") for n in range(ordinary)]
    bad = [
        Client(owner=owner, email=IDN, full_name="Иван"),
        Client(owner=owner, email="ctl@example.org", full_name="Tab\x0bForm\x0cFeed"),
        *(Client(owner=owner, email=address) for address in REFUSED),
    ]
    # Interleaved, so each bad row shares its claimed group with ordinary ones.
    step = ordinary // (len(bad) + 1)
    for position, client in enumerate(bad, start=1):
        rows.insert(position * step, client)
    clients = Client.objects.bulk_create(rows)
    return make_mailing(owner, clients=clients)


@pytest.mark.parametrize(
    "backend",
    [
        "mailing.sending.smtp.EmailBackend",
        "django.core.mail.backends.smtp.EmailBackend",
    ],
)
def test_unsendable_rows_fail_alone_and_the_group_is_sent(backend):
    mailing = mailing_with_unchecked_rows(1000)
    handler = RecordingHandler()
    with (
        smtp_server(handler) as port,
        override_settings(**{**smtp_settings(port), "EMAIL_BACKEND": backend}),
    ):
        run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
        pipeline.send_run(run.pk)
    run.refresh_from_db()

    delivered = [rcpt for rcpts, _content in handler.envelopes for rcpt in rcpts]
    ordinary = {f"r{n}@example.org" for n in range(1000)}
    assert len(delivered) == len(set(delivered)) == 1002
    assert set(delivered) == ordinary | set(REPAIRED.values())
    by_email = {a.client.email: a for a in run.attempts.select_related("client")}
    for address in REFUSED:
        attempt = by_email[address]
        assert attempt.status == Attempt.Status.FAILURE
        assert attempt.server_response.startswith(("Not sent: ", "Не отправлено: "))
    assert not run.attempts.exclude(
        status__in=[Attempt.Status.SUCCESS, Attempt.Status.FAILURE]
    ).exists()
    assert (run.status, run.sent_count, run.failed_count) == (
        MailingRun.Status.FINISHED,
        1002,
        len(REFUSED),
    )
    named = [m for m in handler.messages if "ctl@" in str(m["To"])]
    assert named[0]["To"].addresses[0].display_name == "Tab Form Feed"


def test_a_domain_literal_that_reached_the_database_is_not_sent():
    """Rows written before the input checks refused them (or by a shell) fail
    alone at sending, with the same words as the forms."""
    rows = [(1, 1, 10, "ok@example.org", "Ok"), (2, 1, 11, "a@[10.0.0.5]", "Lit")]
    with translation.override("en"):
        sendable, refused = screen(rows, email_at=3, name_at=4)
    assert sendable == [rows[0]]
    assert [(row[0], reason) for row, reason in refused] == [
        (2, "Enter an address with a domain name, not an IP address.")
    ]
