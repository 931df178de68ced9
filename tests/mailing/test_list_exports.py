"""A list's members as CSV and XLSX (issue 12): status and its time, suppression,
formula-safe cells, owner-only."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from mailing import audiences
from mailing.models import Client, MailingList
from mailing.suppression import suppress_address
from tests.factories import make_client, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(db):
    owner = make_user("mailing_user")
    news = MailingList.objects.create(owner=owner, name="Новости")
    make_client(owner, email="anna@example.org", full_name="Анна Кошкина")
    make_client(owner, email="=1+1@example.org", full_name="=HYPERLINK(1)")
    make_client(owner, email="left@example.org", full_name="Ушедший")
    audiences.subscribe(Client.objects.filter(owner=owner), news)
    audiences.unsubscribe(Client.objects.filter(email="left@example.org"), news)
    suppress_address(owner.pk, "=1+1@example.org", "hard_bounce")
    return owner, news


def url(news, kind):
    path = reverse("mailing_mailinglist:export_members", args=[news.pk])
    return f"{path}?format={kind}"


def test_csv_export_has_status_time_and_suppression(client, members):
    owner, news = members
    client.force_login(owner)
    response = client.get(url(news, "csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    text = b"".join(response.streaming_content).decode()
    rows = {row[0]: row for row in list(csv.reader(io.StringIO(text)))[1:]}
    assert rows["anna@example.org"][1:3] == ["Анна Кошкина", "Subscribed"] or rows[
        "anna@example.org"
    ][1:3] == ["Анна Кошкина", "Подписан"]
    assert rows["anna@example.org"][4] in ("no", "нет")
    # Formula-looking cells are made text; the bounce shows as suppressed.
    risky = rows["'=1+1@example.org"]
    assert risky[1] == "'=HYPERLINK(1)" and risky[4] in ("yes", "да") and risky[5]
    assert rows["left@example.org"][2] in ("Unsubscribed", "Отписан")
    assert len(rows["left@example.org"][3]) == len("2026-01-01 10:00")


def test_xlsx_export_reads_back(client, members):
    owner, news = members
    client.force_login(owner)
    response = client.get(url(news, "xlsx"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = [list(row) for row in book.active.iter_rows(values_only=True)]
    assert len(values) == 4
    assert "Анна Кошкина" in [row[1] for row in values]
    assert "'=HYPERLINK(1)" in [row[1] for row in values]


def test_only_the_owner_exports_members(client, members):
    _owner, news = members
    assert_refused_to_others(client, url(news, "csv"))


def assert_refused_to_others(client, address: str) -> None:
    """Another owner and a manager get no file from `address`."""
    for role in ("mailing_user", "manager"):
        client.force_login(make_user(role))
        refused = client.get(address)
        # Wagtail's refusal: back to the admin home with a message, no file.
        assert refused.status_code == 302 and refused["Location"] == "/admin/"
        assert "Content-Disposition" not in refused


def test_the_lists_listing_offers_the_export_to_the_owner(client, members):
    owner, news = members
    client.force_login(owner)
    body = client.get(reverse("mailing_mailinglist:list")).content.decode()
    assert url(news, "csv") in body.replace("&amp;", "&")
