"""The Attempts listing filters by mailing and by run, within what the viewer sees."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mailing.models import Attempt, MailingRun
from tests.factories import english, make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db


def run_of(mailing, *clients):
    run = MailingRun.objects.create(
        mailing=mailing, kind="scheduled", slot=timezone.now(), status="finished"
    )
    for client in clients:
        Attempt.objects.create(
            run=run, mailing=mailing, client=client, status="success"
        )
    return run


@pytest.fixture
def two_owners():
    a, b = make_user(), make_user()
    a1, a2 = (
        make_client(a, email="a1@example.org"),
        make_client(a, email="a2@example.org"),
    )
    b1 = make_client(b, email="b1@example.org")
    news = make_mailing(a, name="News")
    promo = make_mailing(a, name="Promo")
    foreign = make_mailing(b, name="Foreign")
    runs = {
        "news-1": run_of(news, a1),
        "news-2": run_of(news, a2),
        "promo": run_of(promo, a1, a2),
        "foreign": run_of(foreign, b1),
    }
    return a, {"news": news, "promo": promo, "foreign": foreign}, runs


def listed(client, **query):
    response = client.get(reverse("mailing_attempt:list"), query)
    assert response.status_code == 200
    return sorted(
        (a.mailing.name, a.client.email) for a in response.context["object_list"]
    )


def test_by_mailing(client, two_owners):
    owner, mailings, _runs = two_owners
    client.force_login(owner)
    assert listed(client, mailing=mailings["news"].pk) == [
        ("News", "a1@example.org"),
        ("News", "a2@example.org"),
    ]
    assert len(listed(client)) == 4


def test_by_run(client, two_owners):
    owner, _mailings, runs = two_owners
    client.force_login(owner)
    assert listed(client, run=runs["news-2"].pk) == [("News", "a2@example.org")]
    assert listed(client, run=runs["promo"].pk) == [
        ("Promo", "a1@example.org"),
        ("Promo", "a2@example.org"),
    ]


def test_foreign_mailing_and_run_show_nothing(client, two_owners):
    owner, mailings, runs = two_owners
    client.force_login(owner)
    assert listed(client, run=runs["foreign"].pk) == []
    response = client.get(
        reverse("mailing_attempt:list"), {"mailing": mailings["foreign"].pk}
    )
    assert "b1@example.org" not in response.content.decode()
    assert "Foreign" not in response.content.decode()  # not even as a choice


def test_the_report_links_to_the_filtered_listing(client, two_owners):
    owner, mailings, runs = two_owners
    client.force_login(owner)
    page = client.get(reverse("mailing_mailing:report", args=[mailings["news"].pk]))
    text = page.content.decode()
    assert f"?mailing={mailings['news'].pk}" in text
    assert f"?run={runs['news-1'].pk}" in text and f"?run={runs['news-2'].pk}" in text


def run_chip(client, run):
    response = client.get(reverse("mailing_attempt:list"), {"run": run.pk})
    assert response.status_code == 200
    (chip,) = [f for f in response.context["active_filters"] if f.auto_id == "id_run"]
    return chip.value


def test_the_run_chip_names_the_mailing_and_its_start(client, two_owners):
    """It showed the bare run number ("run: 42")."""
    owner, _mailings, runs = two_owners
    run = runs["news-2"]
    run.started_at = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    run.save(update_fields=["started_at"])
    client.force_login(owner)
    # In the user's language and the site's time zone (Moscow, UTC+3).
    assert run_chip(client, run) == "«News», 5 марта 2026 г. 17:30"
    client.force_login(english(owner))
    assert run_chip(client, run) == "News, March 5, 2026, 5:30 p.m."


def test_a_foreign_run_chip_keeps_its_number(client, two_owners):
    owner, _mailings, runs = two_owners
    client.force_login(owner)
    assert run_chip(client, runs["foreign"]) == str(runs["foreign"].pk)


def test_the_run_chip_costs_the_same_queries_for_many_rows(
    client, two_owners, django_assert_num_queries
):
    owner, mailings, runs = two_owners
    client.force_login(owner)
    url = reverse("mailing_attempt:list") + f"?run={runs['promo'].pk}"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    more = [make_client(owner, email=f"more{i}@example.org") for i in range(5)]
    for recipient in more:
        Attempt.objects.create(
            run=runs["promo"], mailing=mailings["promo"], client=recipient
        )
    with django_assert_num_queries(len(few)):
        assert len(client.get(url).context["object_list"]) == 7


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_chip_label_starts_with_a_capital(client, two_owners, language):
    """Wagtail's own chips say "Статус:"; ours said "рассылка:" and "запуск:"."""
    owner, mailings, runs = two_owners
    client.force_login(english(owner) if language == "en" else owner)
    query = {"run": runs["news-1"].pk, "mailing": mailings["news"].pk}
    response = client.get(
        reverse("mailing_attempt:list"), {**query, "status": "success"}
    )
    labels = [str(chip.field_label) for chip in response.context["active_filters"]]
    assert len(labels) == 3, labels
    assert all(label[0].isupper() for label in labels), labels
