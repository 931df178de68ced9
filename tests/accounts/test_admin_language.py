"""The admin speaks the person's language, wherever they chose it.

See accounts.language."""

import pytest
from wagtail.users.models import UserProfile

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def admin_home(client, user) -> str:
    client.force_login(user)
    # The browser asks for Russian: the person's own choice still wins.
    return client.get("/admin/", headers={"accept-language": "ru"}).content.decode()


def test_a_user_who_chose_english_gets_the_admin_in_english(client):
    user = make_user(language="en")

    assert UserProfile.get_for_user(user).preferred_language == "en"
    assert '<html lang="en"' in admin_home(client, user)


def test_changing_the_account_language_changes_the_admin(client):
    user = make_user(language="en")
    user.language = "ru"
    user.save()

    assert '<html lang="ru"' in admin_home(client, user)


def test_the_admin_account_page_choice_reaches_the_account(client):
    user = make_user(language="ru")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()

    user.refresh_from_db()
    assert user.language == "en"
    assert '<html lang="en"' in admin_home(client, user)


def test_a_sign_in_costs_no_language_query(django_assert_num_queries):
    user = make_user(language="en")

    with django_assert_num_queries(1):  # the UPDATE of last_login alone
        user.save(update_fields=["last_login"])
