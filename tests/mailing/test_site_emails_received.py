"""The site's own emails besides the account ones (subscribe confirmation, sender
confirmation, the editor's test send) as a mail server receives them."""

import pytest
from django.test import Client as Browser

from mailing import senders, services, subscribe
from tests.factories import make_list, make_mailing, make_sender, make_user

from .received import SITE, parts, receiving, site_email_problems
from .test_subscribe import fresh_counters  # noqa: F401 - throttles start clean

pytestmark = pytest.mark.django_db
LIST_NAME = "Books & Coffee"


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_subscribe_confirmation_names_the_list_as_written(
    language, django_capture_on_commit_callbacks
):
    """Seen on the wire: its subject read “Books &amp; Coffee” (an autoescaping
    subject template) and its Message-ID named the machine."""
    form = subscribe.form_settings_for(make_list(make_user(), name=LIST_NAME))
    form.is_enabled = True
    form.save()

    with receiving() as server, django_capture_on_commit_callbacks(execute=True):
        Browser().post(
            f"/subscribe/{form.key}/",
            {"email": "reader@example.org"},
            HTTP_ACCEPT_LANGUAGE=language,
        )

    [email] = server.messages
    assert site_email_problems(email, language) == []
    assert f"“{LIST_NAME}”" in email["Subject"] or f"«{LIST_NAME}»" in email["Subject"]
    assert f"{SITE}/subscribe/confirm/" in parts(email)[0]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_sender_confirmation_arrives_in_the_owners_language(language):
    owner = make_user(language=language, email="o'neil@example.com")
    identity = make_sender(owner, confirmed=False, from_email="shop@example.net")

    with receiving() as server:
        senders.send_confirmation(identity.pk)

    [email] = server.messages
    assert site_email_problems(email, language) == []
    assert "o'neil@example.com" in parts(email)[0]


def test_a_test_send_carries_a_message_id_of_the_sites_domain():
    owner = make_user()
    mailing = make_mailing(owner)

    with receiving() as server:
        services.send_test(mailing, owner)
        services.send_test(mailing, owner)

    first, second = server.messages
    assert first["Message-ID"] != second["Message-ID"]
    for email in (first, second):
        assert email["Message-ID"].endswith("@vestnik.example>")
        assert email["List-Id"] == f"<mailing-{mailing.pk}.vestnik.example>"
