"""Yes/no and empty values in the admin read in the viewer's language.

Wagtail printed a boolean field as Python's "True"/"False" in listings and on
inspect pages, and an empty field as "None": English words on Russian pages.
"""

import re

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests.factories import make_mailing, make_user

pytestmark = pytest.mark.django_db


def signed_in_russian(user) -> HttpClient:
    UserProfile.objects.update_or_create(
        user=user, defaults={"preferred_language": "ru"}
    )
    client = HttpClient()
    client.force_login(user)
    return client


def cells(content: str) -> list[str]:
    """The visible text of each table cell and each inspect value."""
    found = re.findall(r"<(?:td|dd)\b[^>]*>(.*?)</(?:td|dd)>", content, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in found]


def test_mailing_listing_shows_yes_and_no_in_russian():
    owner = make_user()
    make_mailing(owner, is_enabled=True, track_engagement=False)
    page = signed_in_russian(owner).get(reverse("mailing_mailing:list"))
    shown = cells(page.content.decode())
    assert "Да" in shown and "Нет" in shown
    assert not {"True", "False"} & set(shown)


def test_mailing_inspect_shows_no_python_values_in_russian():
    owner = make_user()
    mailing = make_mailing(owner, end_at=None, is_digest=False)
    page = signed_in_russian(owner).get(
        reverse("mailing_mailing:inspect", args=[mailing.pk])
    )
    shown = cells(page.content.decode())
    assert "Нет" in shown and "—" in shown
    assert not {"True", "False", "None"} & set(shown)


@pytest.mark.parametrize(
    ("listing", "label"),
    [
        ("mailing_mailing:list", "Добавить рассылку"),
        ("mailing_client:list", "Добавить клиента"),
        ("mailing_senderidentity:list", "Добавить отправителя"),
    ],
)
def test_the_add_button_is_grammatical_in_russian(listing, label):
    """Wagtail's "Add %(model_name)s" put the nominative in: "Добавить рассылка"."""
    page = signed_in_russian(make_user()).get(reverse(listing))
    assert label in page.content.decode()


def test_an_owners_address_may_break_only_after_its_at():
    owner = make_user(email="o'brien@example.org")
    make_mailing(owner, name="Digest")
    client = signed_in_russian(make_user("manager"))
    content = client.get(reverse("mailing_mailing:list")).content.decode()
    # Escaped as any value; the <wbr> is the only markup added.
    assert 'class="owner"' in content
    assert "o&#x27;brien@<wbr>example.org" in content
