"""An empty admin listing reads right in Russian (site_config/wagtail_wording.py)."""

import pytest
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_an_empty_listing_in_russian(client):
    client.force_login(make_user(language="ru"))
    url = reverse("mailing_segment:list")
    empty = client.get(url).content.decode()
    searched = client.get(url, {"q": "нет такого"}).content.decode()

    assert "Сегменты: пока ни одной записи." in empty
    assert "Нет сегменты" not in empty
    assert "Сегменты: ничего не подходит под запрос." in searched


def test_an_empty_listing_in_english_keeps_wagtails_words(client):
    client.force_login(make_user(language="en"))
    empty = client.get(reverse("mailing_segment:list")).content.decode()
    assert "There are no segments to display." in empty
