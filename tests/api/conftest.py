import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from mailing.api.tokens import issue_token
from tests.factories import make_user


def bearer(raw: str, **headers) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}", **headers)
    return api


@pytest.fixture
def token_for():
    """A real token of `user` and an APIClient sending it."""

    def make(user, scope=ApiToken.Scope.READ_WRITE):
        _token, raw = issue_token(user, "test", scope)
        return bearer(raw)

    return make


@pytest.fixture
def owner(db):
    return make_user("mailing_user", email="owner@example.com")
