"""A request refused for its size says so, in the page's language.

Django answers a body over DATA_UPLOAD_MAX_MEMORY_SIZE with its 400 handler;
ours said "Something in it was malformed", which sends people looking for a
typo in a message they pasted that was simply too long.
"""

import pytest
from django.test import Client as HttpClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/en/accounts/login/", "The request is too large: send at most 1000"),
        ("/accounts/login/", "Запрос слишком большой: за один раз можно отправить"),
    ],
)
def test_a_body_over_the_limit_is_refused_with_its_reason(settings, path, words):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = HttpClient().post(
        path, {"username": "someone@example.com", "password": "x" * 2000}
    )
    assert response.status_code == 400
    assert words in response.content.decode()
