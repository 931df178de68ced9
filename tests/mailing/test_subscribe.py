"""Public subscribe forms with double opt-in, consent records and throttling
(issue 12), against the real database and cache the suite is given."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.test import Client as Browser
from django.utils import timezone

from mailing import audiences, data_subjects, subscribe
from mailing.models import Client, Consent, Mailing, Subscription
from mailing.suppression import Reason, suppress_address
from mailing.unsubscribe import make_token, unsubscribe_url
from tests.factories import make_client, make_list, make_mailing, make_user

pytestmark = pytest.mark.django_db
Status = Subscription.Status
AGENT = "Mozilla/5.0 (X11; Linux) Chromium/130"


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def form(owner):
    settings = subscribe.form_settings_for(make_list(owner, name="Новости"))
    settings.is_enabled = True
    settings.consent_text = "Я согласен получать новости."
    settings.save()
    return settings


def url(form) -> str:
    return f"/subscribe/{form.key}/"


def post(form, browser=None, captured=None, **data):
    data = {"email": "reader@example.org", "consent": "on", **data}
    browser = browser or Browser(enforce_csrf_checks=True)
    return browser.post(
        url(form), data, HTTP_USER_AGENT=AGENT, REMOTE_ADDR="203.0.113.9"
    )


def subscribe_and_get_link(form, capture, **data) -> str:
    with capture(execute=True):
        response = post(form, **data)
    assert response.status_code == 200
    (email,) = mail.outbox
    return re.search(r"http://testserver(/subscribe/confirm/\S+/)", email.body)[1]


def subscription(form, email="reader@example.org") -> Subscription:
    return Subscription.objects.get(mailing_list=form.mailing_list, client__email=email)


def test_the_hosted_form_is_found_by_its_key_only(form):
    assert Browser().get(url(form)).status_code == 200
    assert Browser().get(f"/subscribe/{form.mailing_list.pk}/").status_code == 404
    form.is_enabled = False
    form.save()
    assert Browser().get(url(form)).status_code == 404


def test_a_cross_site_post_needs_no_csrf_token_and_leaves_one_unconfirmed_row(
    form, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(form, name="Анна  Кошкина")

    assert response.status_code == 200
    row = subscription(form)
    assert row.status == Status.UNCONFIRMED
    assert row.client.full_name == "Анна Кошкина"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["reader@example.org"]
    assert "Новости" in mail.outbox[0].subject


def test_the_consent_record_keeps_what_was_shown_and_who_asked(
    form, django_capture_on_commit_callbacks
):
    link = subscribe_and_get_link(form, django_capture_on_commit_callbacks)
    Browser().post(link)
    form.consent_text = "Другой текст позже"
    form.save()

    consent = Consent.objects.get(subscription=subscription(form))
    assert consent.consent_text == "Я согласен получать новости."
    assert consent.ip == "203.0.113.9"
    assert consent.user_agent == AGENT
    assert consent.source == Consent.Source.FORM
    assert consent.source_detail == f"form:{form.key}"
    assert consent.confirmed_at is not None
    assert consent.given_at <= consent.confirmed_at


def test_the_consent_outlives_status_changes_and_shows_in_the_export(
    form, django_capture_on_commit_callbacks
):
    link = subscribe_and_get_link(form, django_capture_on_commit_callbacks)
    Browser().post(link)
    row = subscription(form)
    audiences.unsubscribe(Client.objects.filter(pk=row.client_id), form.mailing_list)

    record = data_subjects.client_record(row.client)
    (listed,) = record["lists"]
    assert listed["status"] == Status.UNSUBSCRIBED
    (consent,) = listed["consents"]
    assert consent["consent_text"] == "Я согласен получать новости."
    assert consent["ip"] == "203.0.113.9"
    assert consent["confirmed_at"] is not None


def test_confirming_subscribes_and_the_link_works_once(
    form, django_capture_on_commit_callbacks
):
    link = subscribe_and_get_link(form, django_capture_on_commit_callbacks)
    asked = Browser().get(link)
    assert asked.status_code == 200
    assert subscription(form).status == Status.UNCONFIRMED  # GET only asks

    first = Browser().post(link)
    assert first.status_code == 200
    row = subscription(form)
    assert row.status == Status.SUBSCRIBED

    again = Browser().post(link, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert Browser().get(link).status_code == 410
    assert subscription(form).changed_at == row.changed_at


def test_an_expired_link_is_refused_with_its_own_page(
    form, django_capture_on_commit_callbacks
):
    link = subscribe_and_get_link(form, django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(seconds=subscribe.CONFIRM_MAX_AGE + 60)

    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        response = Browser().post(link, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert subscription(form).status == Status.UNCONFIRMED


def test_a_forged_or_foreign_token_is_refused(form, django_capture_on_commit_callbacks):
    subscribe_and_get_link(form, django_capture_on_commit_callbacks)
    consent = Consent.objects.get()
    wrong_nonce = signing.dumps(
        {"c": consent.pk, "n": "x"}, salt=subscribe.CONFIRM_SALT
    )
    other_salt = signing.dumps({"c": consent.pk, "n": consent.confirm_nonce})

    for token in (wrong_nonce, other_salt, "junk"):
        assert Browser().post(f"/subscribe/confirm/{token}/").status_code == 404
    assert subscription(form).status == Status.UNCONFIRMED


def outcome(form, email, capture):
    """What the visitor sees (status, page text without the token) and how many
    emails went out for one POST."""
    mail.outbox.clear()
    with capture(execute=True):
        response = post(form, email=email)
    text = re.sub(r"csrfmiddlewaretoken[^>]*", "", response.content.decode())
    return response.status_code, text, len(mail.outbox)


def test_known_unknown_subscribed_and_suppressed_get_the_same_answer(
    form, owner, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    make_client(owner, email="known@example.org")
    subscribed = make_client(owner, email="member@example.org")
    audiences.subscribe(Client.objects.filter(pk=subscribed.pk), form.mailing_list)
    suppress_address(owner.pk, "gone@example.org", Reason.UNSUBSCRIBE)
    suppress_address(owner.pk, "bounced@example.org", Reason.HARD_BOUNCE)

    answers = {
        email: outcome(form, email, capture)
        for email in (
            "new@example.org",
            "known@example.org",
            "member@example.org",
            "gone@example.org",
            "bounced@example.org",
        )
    }

    assert len({(status, text) for status, text, _ in answers.values()}) == 1
    assert {email: sent for email, (_, _, sent) in answers.items()} == {
        "new@example.org": 1,
        "known@example.org": 1,
        "member@example.org": 0,
        "gone@example.org": 0,
        "bounced@example.org": 0,
    }
    assert not Client.objects.filter(email__in=["gone@example.org"]).exists()
    assert subscription(form, "member@example.org").status == Status.SUBSCRIBED


def test_the_answer_does_the_same_work_whatever_the_address(form, owner):
    """The request is queued before anything depends on the address: the same
    queries, the same hand-over, whether known, new, subscribed or suppressed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_client(owner, email="known@example.org")
    suppress_address(owner.pk, "gone@example.org", Reason.UNSUBSCRIBE)
    queries, queued = {}, []
    with mock.patch(
        "mailing.tasks.handle_subscription_request",
        side_effect=lambda *args: queued.append(args[1]),
    ):
        post(form, email="warm-up@example.org")  # per-process caches filled once
        for email in ("new@example.org", "known@example.org", "gone@example.org"):
            with CaptureQueriesContext(connection) as captured:
                post(form, email=email)
            queries[email] = len(captured)

    assert len(set(queries.values())) == 1, queries
    assert queued[1:] == ["new@example.org", "known@example.org", "gone@example.org"]


def test_200_requests_from_one_address_are_throttled(form):
    statuses = [
        post(form, email=f"person{n}@example.org").status_code for n in range(200)
    ]

    assert statuses[: subscribe.REQUESTS.max_per_ip] == [200] * 30
    assert set(statuses[subscribe.REQUESTS.max_per_ip :]) == {429}
    page = post(form, email="late@example.org")
    assert "Too many requests" in page.content.decode() or "Слишком" in (
        page.content.decode()
    )
    assert Client.objects.filter(owner=form.mailing_list.owner).count() == 30


def test_the_confirmation_is_not_resent_more_than_three_times_an_hour(
    form, django_capture_on_commit_callbacks
):
    for n in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            browser = Browser(REMOTE_ADDR=f"198.51.100.{n}")
            browser.post(url(form), {"email": "reader@example.org", "consent": "on"})

    assert len(mail.outbox) == subscribe.EMAILS.max_per_account == 3


def test_without_consent_the_form_says_why_and_keeps_what_was_typed(form):
    response = post(form, consent="", name="Анна")

    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="reader@example.org"' in page
    assert 'value="Анна"' in page
    assert not Subscription.objects.exists()


def test_a_bad_address_is_named_and_nothing_is_stored(form):
    response = post(form, email="not an address")

    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()
    assert not Client.objects.exists()


def test_the_honeypot_gets_thanks_and_nothing_else(
    form, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(form, website="http://spam.example")

    assert response.status_code == 200
    assert not Client.objects.exists()
    assert mail.outbox == []


def test_without_double_opt_in_the_visitor_is_subscribed_at_once(form):
    form.double_opt_in = False
    form.redirect_url = "https://example.org/thanks"
    form.save()

    response = post(form)

    assert response.status_code == 303
    assert response["Location"] == "https://example.org/thanks"
    assert subscription(form).status == Status.SUBSCRIBED
    assert Consent.objects.get().confirmed_at is not None
    assert mail.outbox == []


def test_a_left_list_stays_left_until_the_person_confirms(
    form, owner, django_capture_on_commit_callbacks
):
    reader = make_client(owner, email="reader@example.org")
    audiences.subscribe(Client.objects.filter(pk=reader.pk), form.mailing_list)
    audiences.unsubscribe(Client.objects.filter(pk=reader.pk), form.mailing_list)

    link = subscribe_and_get_link(form, django_capture_on_commit_callbacks)
    assert subscription(form).status == Status.UNSUBSCRIBED
    Browser().post(link)
    assert subscription(form).status == Status.SUBSCRIBED


def test_a_stranger_typed_in_reaches_no_all_clients_mailing_until_confirmed(
    form, owner, django_capture_on_commit_callbacks
):
    regular = make_client(owner, email="regular@example.org")
    mailing = make_mailing(owner, all_clients=True)
    link = subscribe_and_get_link(form, django_capture_on_commit_callbacks)

    assert list(audiences.recipients(mailing)) == [regular]
    Browser().post(link)
    emails = set(audiences.recipients(mailing).values_list("email", flat=True))
    assert emails == {"regular@example.org", "reader@example.org"}
    assert Mailing.objects.filter(pk=mailing.pk).exists()


def test_the_pages_speak_both_languages(form):
    russian = Browser().get(url(form), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    english = Browser().get(url(form), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Подписаться" in russian
    assert "Subscribe" in english


# --- The preference page behind the email's unsubscribe link ----------------------


def preferences_path(client) -> str:
    return unsubscribe_url(make_token(client.pk)).removeprefix("http://testserver")


def test_the_preference_page_shows_the_owners_lists_and_changes_them(owner):
    reader = make_client(owner, email="reader@example.org")
    news = make_list(owner, name="Новости", clients=[reader])
    offers = make_list(owner, name="Акции", clients=[reader])
    left = make_list(owner, name="Анонсы", clients=[reader], status=Status.UNSUBSCRIBED)
    make_list(make_user(), name="Чужой список", clients=[make_client(owner)])

    page = Browser().get(preferences_path(reader)).content.decode()
    assert "Новости" in page and "Акции" in page and "Анонсы" in page
    assert "Чужой список" not in page

    response = Browser(enforce_csrf_checks=True).post(
        preferences_path(reader),
        {"action": "save", "lists": [news.pk, left.pk]},
        REMOTE_ADDR="192.0.2.7",
    )

    assert response.status_code == 200
    statuses = dict(
        Subscription.objects.filter(client=reader).values_list(
            "mailing_list__name", "status"
        )
    )
    assert statuses == {
        "Новости": Status.SUBSCRIBED,
        "Акции": Status.UNSUBSCRIBED,
        "Анонсы": Status.SUBSCRIBED,
    }
    returned = Consent.objects.get(subscription__mailing_list=left)
    assert returned.source == Consent.Source.PREFERENCES
    assert returned.ip == "192.0.2.7"
    reader.refresh_from_db()
    assert reader.unsubscribed_at is None  # leaving one list is not a global opt-out
    assert offers.subscriptions.get().status == Status.UNSUBSCRIBED


def test_a_global_opt_out_is_not_undone_from_the_preference_page(owner):
    reader = make_client(owner, email="reader@example.org")
    news = make_list(owner, clients=[reader], status=Status.UNSUBSCRIBED)
    Browser().post(preferences_path(reader))  # "unsubscribe from everything"

    Browser().post(preferences_path(reader), {"action": "save", "lists": [news.pk]})

    assert news.subscriptions.get().status == Status.UNSUBSCRIBED
    reader.refresh_from_db()
    assert reader.unsubscribed_at is not None


def test_a_foreign_list_id_in_the_choices_changes_nothing(owner):
    reader = make_client(owner, email="reader@example.org")
    other = make_client(make_user(), email="reader@example.org")
    foreign = make_list(other.owner, clients=[other], status=Status.UNSUBSCRIBED)

    Browser().post(preferences_path(reader), {"action": "save", "lists": [foreign.pk]})

    assert foreign.subscriptions.get().status == Status.UNSUBSCRIBED


@pytest.mark.parametrize(
    "field,value",
    [
        ("email", "a\x00@example.org"),
        ("email", "x" * 5000 + "@example.org"),
        ("name", "Анна\r\nBcc: victim@example.org"),
        ("name", "я" * 5000),
        ("page", "1; DROP TABLE"),
        ("consent", "\x00"),
    ],
)
def test_hostile_values_are_refused_with_the_form_never_a_server_error(
    form, field, value
):
    response = post(form, **{field: value})

    assert response.status_code in (200, 400)
    # A name is one line (mailing.addresses.normalise_name): nothing reaches a header.
    assert not Client.objects.filter(full_name__regex=r"[\r\n]").exists()
    if response.status_code == 400:
        assert "invalid-feedback" in response.content.decode()


def test_the_consent_text_is_the_one_the_visitor_agreed_to(
    form, django_capture_on_commit_callbacks
):
    """The request waits in the queue; the owner may reword the text meanwhile."""
    agreed = form.consent_text
    form.consent_text = "Reworded later"
    form.save()

    with django_capture_on_commit_callbacks(execute=True):
        subscribe.handle_request(
            form.pk,
            "reader@example.org",
            "",
            "203.0.113.9",
            AGENT,
            "form",
            "x",
            agreed,
            "en",
        )

    assert Consent.objects.get().consent_text == agreed
    assert "Confirm your subscription" in mail.outbox[0].subject
