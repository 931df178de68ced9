"""The Attempts listing filters by mailing and by run, within what the viewer sees."""

import pytest
from django.urls import reverse
from django.utils import timezone

from mailing.models import Attempt, MailingRun
from tests.factories import make_client, make_mailing, make_user

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
