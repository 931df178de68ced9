"""A segment's clients as CSV and XLSX (issue 12): the list export's writer over
the clients the segment matches, with each client's lists and their status and
the suppression columns; formula-safe cells; the owner's only."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from mailing import audiences
from mailing.models import Client, MailingList, Segment
from mailing.suppression import suppress_address
from tests.factories import make_client, make_user
from tests.mailing.test_list_exports import assert_refused_to_others

pytestmark = pytest.mark.django_db

VIP = [{"type": "tag", "op": "has", "value": "vip"}]


@pytest.fixture
def segment(db):
    owner = make_user("mailing_user")
    news = MailingList.objects.create(owner=owner, name="Новости")
    offers = MailingList.objects.create(owner=owner, name="Offers")
    make_client(owner, email="anna@example.org", full_name="Анна", tags=["vip"])
    make_client(
        owner, email="=1+1@example.org", full_name="=HYPERLINK(1)", tags=["vip"]
    )
    make_client(owner, email="plain@example.org", full_name="Not VIP")
    audiences.subscribe(Client.objects.filter(owner=owner), news)
    audiences.subscribe(Client.objects.filter(email="anna@example.org"), offers)
    audiences.unsubscribe(Client.objects.filter(email="anna@example.org"), offers)
    suppress_address(owner.pk, "=1+1@example.org", "hard_bounce")
    return Segment.objects.create(owner=owner, name="VIP", rules=VIP)


def url(segment, kind):
    path = reverse("mailing_segment:export_members", args=[segment.pk])
    return f"{path}?format={kind}"


def test_csv_export_lists_the_matching_clients_with_lists_and_suppression(
    client, segment
):
    client.force_login(segment.owner)
    response = client.get(url(segment, "csv"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    text = b"".join(response.streaming_content).decode()
    rows = {row[0]: row for row in list(csv.reader(io.StringIO(text)))[1:]}
    assert set(rows) == {"anna@example.org", "'=1+1@example.org"}
    anna = rows["anna@example.org"]
    assert anna[2] in (
        "Offers: Unsubscribed; Новости: Subscribed",
        "Offers: Отписан; Новости: Подписан",
    )
    assert anna[3] in ("no", "нет") and anna[4] == ""
    risky = rows["'=1+1@example.org"]
    assert risky[1] == "'=HYPERLINK(1)" and risky[3] in ("yes", "да") and risky[4]


def test_xlsx_export_reads_back(client, segment):
    client.force_login(segment.owner)
    response = client.get(url(segment, "xlsx"))

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = [list(row) for row in book.active.iter_rows(values_only=True)]
    assert len(values) == 3
    assert {"Анна", "'=HYPERLINK(1)"} == {row[1] for row in values[1:]}


def test_only_the_owner_exports_a_segment(client, segment):
    assert_refused_to_others(client, url(segment, "csv"))


def test_the_segment_pages_offer_the_export_to_the_owner_only(client, segment):
    client.force_login(segment.owner)
    listing = client.get(reverse("mailing_segment:list")).content.decode()
    edit = reverse("mailing_segment:edit", args=[segment.pk])
    page = client.get(edit).content.decode()

    for body in (listing, page):
        assert url(segment, "xlsx") in body.replace("&amp;", "&")
    client.force_login(make_user("manager"))
    listing = client.get(reverse("mailing_segment:list")).content.decode()
    assert url(segment, "csv") not in listing.replace("&amp;", "&")
