"""A listing's CSV and XLSX downloads say what the listing says: a choice's label,
Yes or No, times in the viewer's zone, every heading in the viewer's language,
and the owner column only for those who see every owner (mailing.admin_values
.exported). They wrote "created", "weekly", "True", UTC times with microseconds,
and the Attempts headings "client.email" and "mailing.owner"."""

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from wagtail.users.models import UserProfile

from mailing.models import Attempt, Mailing, MailingRun
from mailing.services import open_run
from tests.factories import english, make_client, make_mailing, make_user
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

FIRST_SEND = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def owner():
    """An owner in Tokyo (UTC+9) with a weekly mailing sent once to one client."""
    user = make_user(email="owner@example.com")
    UserProfile.objects.update_or_create(
        user=user, defaults={"current_time_zone": "Asia/Tokyo"}
    )
    client = make_client(user, email="reader@example.org")
    mailing = make_mailing(
        user,
        clients=[client],
        name="Weekly",
        periodicity=Mailing.Periodicity.WEEKLY,
        first_send_at=FIRST_SEND,
    )
    run = open_run(mailing, MailingRun.Kind.MANUAL, FIRST_SEND)
    run.attempts.update(status=Attempt.Status.SUCCESS, attempted_at=FIRST_SEND)
    return user


def csv_rows(http, path: str) -> list[dict]:
    response = http.get(path, {"export": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_russian_owners_mailings_download_reads_as_the_listing(owner):
    (row,) = csv_rows(signed_in(owner), "/admin/mailing/mailings/")

    assert row["Статус"] == "Создана"
    assert row["Периодичность"] == "Еженедельно"
    assert row["Включена"] == "Да"
    # 09:30:15 UTC in Tokyo, to the second.
    assert row["Первая отправка"] == "2026-03-02 18:30:15"
    # The owner's own address in every row said nothing; the listing hides it.
    assert "Владелец" not in row


def test_the_attempts_download_names_its_columns_and_statuses(owner):
    (row,) = csv_rows(signed_in(english(owner)), "/admin/mailing/attempts/")

    assert row["Recipient"] == "reader@example.org"
    assert row["Status"] == "Success"
    assert row["Attempted at"] == "2026-03-02 18:30:15"
    assert "client.email" not in row
    assert "Owner" not in row and "mailing.owner" not in row


def test_a_manager_sees_each_attempts_owner_under_a_heading(owner):
    manager = make_user("manager")

    (row,) = csv_rows(signed_in(manager), "/admin/mailing/attempts/")

    assert row["Владелец"] == "owner@example.com"
    assert row["Получатель"] == "reader@example.org"


def test_xlsx_times_are_the_viewers_wall_clock(owner):
    response = signed_in(owner).get("/admin/mailing/mailings/", {"export": "xlsx"})

    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    heading, row = list(sheet.iter_rows(values_only=True))
    cells = dict(zip(heading, row, strict=True))
    assert cells["Первая отправка"] == datetime(2026, 3, 2, 18, 30, 15)
    assert cells["Периодичность"] == "Еженедельно"
