"""A bad address on the client form gets one clear message, not a second
"Invalid email: " with nothing after it (the model's check of the empty value
left by the failed field)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from accounts.models import ApiToken
from mailing.api.tokens import issue_token
from mailing.import_jobs import run_import, start_import
from mailing.imports import stash_path
from mailing.models import Client
from tests.api.conftest import bearer
from tests.factories import english, make_user

pytestmark = pytest.mark.django_db


def stash(content: bytes, token="b" * 32) -> str:
    path = stash_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return token


def test_a_malformed_email_gets_one_message(client):
    client.force_login(english(make_user()))
    response = client.post(
        reverse("mailing_client:add"),
        {"email": "not an email", "full_name": "Ann", "comment": "", "time_zone": ""},
    )
    errors = response.context["form"].errors
    assert errors["email"] == ["Enter a valid email address."]
    assert not Client.objects.exists()


def test_an_empty_address_is_required_once():
    with pytest.raises(ValidationError) as raised:
        Client(owner=make_user(), email="", full_name="").full_clean()
    with translation.override("en"):
        errors = raised.value.message_dict
    assert errors["email"] == errors["full_name"] == ["This field cannot be blank."]


def full_clean_errors(email: str, language: str) -> list[str]:
    with translation.override(language), pytest.raises(ValidationError) as raised:
        Client(owner=make_user(), email=email, full_name="Ann").full_clean()
        return []
    return raised.value.message_dict["email"]


def import_reasons(email: str, language: str) -> list[str]:
    with translation.override(language):
        job = run_import(
            start_import(
                make_user(), stash(f"{email},Ann,\n".encode()), file_name="c.csv"
            ).pk
        )
    return list(job.rejections.values_list("reason", flat=True))


@pytest.mark.parametrize(
    ("email", "language", "message"),
    [
        ("not an email", "en", "Invalid email: not an email"),
        ("not an email", "ru", "Неверный адрес: not an email"),
        ("ann@", "en", "Invalid email: ann@"),
        ("ann@example..org", "ru", "Неверный адрес: ann@example..org"),
        # Django's validator passes a long local part; the transport's check does not.
        ("a" * 65 + "@example.org", "en", "The part before @ is too long"),
    ],
)
def test_a_bad_address_gets_one_message_in_full_clean_and_the_import(
    email, language, message, settings, tmp_path
):
    """full_clean() gave Django's "Enter a valid email address." and the
    transport's own "Invalid email: ..." for the same fault."""
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    (found,) = full_clean_errors(email, language)
    assert found.startswith(message)
    assert import_reasons(email, language) == [found]  # the same words in both


def test_an_address_too_long_for_the_column_gets_one_message():
    # Django's length check said so too, beside the transport's check.
    (found,) = full_clean_errors("a" * 250 + "@example.org", "en")
    assert found.startswith("The part before @ is too long")


def test_a_good_address_is_stored_as_the_transport_sends_it():
    client = Client(owner=make_user(), email=" Ann@Example.ORG ", full_name="Ann")
    client.full_clean()
    assert client.email == "Ann@example.org"


# --- A domain literal (user@[192.0.2.1]): refused wherever a client address enters --

LITERAL = "ann@[127.0.0.1]"
NOT_AN_IP = {
    "en": "Enter an address with a domain name, not an IP address.",
    "ru": "Введите адрес с доменным именем, а не IP-адрес.",
}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_client_form_refuses_a_domain_literal(client, language):
    user = make_user()
    UserProfile.objects.update_or_create(
        user=user, defaults={"preferred_language": language}
    )
    client.force_login(user)
    response = client.post(
        reverse("mailing_client:add"),
        {"email": LITERAL, "full_name": "Ann", "comment": "", "time_zone": ""},
    )
    assert response.context["form"].errors["email"] == [NOT_AN_IP[language]]
    assert not Client.objects.exists()


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("address", [LITERAL, "ann@[IPv6:::1]", "ann@[10.0.0.5]."])
def test_the_import_refuses_a_domain_literal(address, language, settings, tmp_path):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    assert import_reasons(address, language) == [NOT_AN_IP[language]]
    assert full_clean_errors(address, language) == [NOT_AN_IP[language]]
    assert not Client.objects.exists()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_api_refuses_a_domain_literal(language):
    _token, raw = issue_token(make_user(), "test", ApiToken.Scope.READ_WRITE)
    api = bearer(raw)
    one = api.post(
        "/api/v1/clients/",
        {"email": LITERAL, "full_name": "Ann"},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert one.status_code == 400, one.content
    assert one.json()["fields"]["email"] == [NOT_AN_IP[language]]
    bulk = api.post(
        "/api/v1/clients/bulk/",
        {"clients": [{"email": LITERAL, "full_name": "Ann"}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert NOT_AN_IP[language] in bulk.content.decode(), bulk.content
    assert not Client.objects.exists()
