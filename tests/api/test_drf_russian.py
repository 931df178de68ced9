"""The API answers a Russian client in Russian where DRF's own catalogue does not."""

import re

import pytest
from django.utils import translation

from mailing.api.drf_wording import DRF_FIELD_MESSAGES
from tests.factories import make_client, make_list, make_message

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("msgid", DRF_FIELD_MESSAGES)
def test_each_of_drfs_untranslated_messages_has_our_russian(msgid):
    with translation.override("ru"):
        russian = translation.gettext(msgid)
    assert russian != msgid
    # Placeholders DRF fills with str.format survive the translation.
    assert re.findall(r"{\w+}", msgid) == re.findall(r"{\w+}", russian)


def test_a_time_before_year_one_in_utc_is_refused_in_russian(owner, token_for):
    # Year 1 at 05:00 in UTC+5 is year 0 in UTC: DRF's "overflow" message.
    body = {
        "name": "Rules",
        "message": make_message(owner).pk,
        "lists": [make_list(owner, clients=[make_client(owner)]).pk],
        "first_send_at": "0001-01-01T00:00:00+05:00",
    }
    answer = token_for(owner).post(
        "/api/v1/mailings/", body, format="json", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["fields"]["first_send_at"] == [
        "Дата и время вне допустимого диапазона."
    ]


def test_a_body_that_is_no_object_is_refused_in_russian_words_only(owner, token_for):
    """DRF's own Russian for it read "Ожидался dictionary, но был получен list"."""
    answer = token_for(owner).post(
        "/api/v1/clients/", [], format="json", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert answer.status_code == 400, answer.content
    text = str(answer.json())
    assert "dictionary" not in text
    assert re.search("[а-яё]", text)
