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


def test_a_refusal_in_the_admin_is_told_in_the_persons_language(client):
    """Wagtail writes "Sorry, you do not have permission..." after the view has
    left its language override, in the browser's language: an English manager
    who opened a mailing's edit page read the refusal in Russian."""
    from django.contrib.messages import get_messages
    from django.urls import reverse

    from tests.factories import make_mailing

    mailing = make_mailing(make_user())
    manager = make_user("manager", language="en")
    client.force_login(manager)

    refused = client.get(
        reverse("mailing_mailing:edit", args=[mailing.pk]),
        headers={"accept-language": "ru"},
    )
    assert refused.status_code == 302
    assert [str(m).strip() for m in get_messages(refused.wsgi_request)] == [
        "Sorry, you do not have permission to access this area."
    ]
