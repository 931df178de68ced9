import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.accounts.helpers import log_in
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def user_client(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = make_user()
    client.force_login(user)
    client.user = user
    return client


def test_profile_needs_a_login(client):
    response = client.get("/accounts/profile/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


@pytest.mark.smoke
def test_profile_saves_the_fields_and_an_image(user_client):
    response = user_client.post(
        "/accounts/profile/",
        {
            "first_name": "Анна",
            "last_name": "Петрова",
            "phone": "+7 912 345-67-89",
            "country": "Россия",
            "language": "en",
            "avatar": SimpleUploadedFile("me.png", png_bytes(), "image/png"),
        },
    )

    assert response.status_code == 302
    user = user_client.user
    user.refresh_from_db()
    assert (user.first_name, user.phone, user.language) == (
        "Анна",
        "+7 912 345-67-89",
        "en",
    )
    assert user.avatar.name.startswith("avatars/me")


@pytest.mark.parametrize(
    ("name", "content"),
    [("me.png", b"not an image at all"), ("script.html", b"<script>alert(1)</script>")],
)
def test_profile_refuses_an_avatar_that_is_not_an_image(user_client, name, content):
    response = user_client.post(
        "/en/accounts/profile/",
        {"language": "ru", "avatar": SimpleUploadedFile(name, content)},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["avatar"]
    user_client.user.refresh_from_db()
    assert not user_client.user.avatar


def test_profile_refuses_a_bad_phone(user_client):
    response = user_client.post(
        "/en/accounts/profile/", {"language": "ru", "phone": "call me maybe"}
    )

    assert "Enter a phone number" in response.content.decode()


def test_password_change_needs_the_old_password(user_client):
    new = "lantern-orchard-77"
    response = user_client.post(
        "/accounts/profile/password/",
        {"old_password": "wrong", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200

    response = user_client.post(
        "/accounts/profile/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response["Location"] == "/accounts/profile/"
    # Still signed in after the change, and the new password works.
    assert user_client.get("/accounts/profile/").status_code == 200
    user_client.logout()
    assert log_in(user_client, user_client.user.email, new).status_code == 302
