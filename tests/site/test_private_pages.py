"""Wagtail's view restrictions are skipped while no page is private (home.page_cache):
the first restriction must take effect at once, for cached and uncached pages, and
when another process creates it (the shortcut lives in the shared Redis)."""

import os
import subprocess  # nosec B404 - runs manage.py, no shell
import sys

import pytest
from django.conf import settings
from django.test import Client
from wagtail.models import PageViewRestriction

from home.page_cache import HEADER, any_view_restrictions
from tests.factories import make_blog_index, make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def post():
    return make_post(make_blog_index(), slug="secret", title="Secret post")


def prime(client) -> None:
    """Cache the post and the index, and the answer "no page is private"."""
    for path in ("/blog/secret/", "/blog/"):
        client.get(path)
        assert client.get(path)[HEADER] == "hit"
    assert any_view_restrictions() is False


def assert_protected(client, restriction_type: str) -> None:
    # The restriction is the Russian post's: its translation is a page of its own.
    for path in ("/blog/secret/",):
        for _ in range(2):
            response = client.get(path)
            assert response.get(HEADER) != "hit", path
            if restriction_type == PageViewRestriction.LOGIN:
                assert response.status_code == 302, path
            else:
                assert "Secret post" not in response.content.decode(), path
                assert 'name="password"' in response.content.decode(), path
    # Wagtail's public() hides it from the list too.
    assert "Secret post" not in client.get("/blog/").content.decode()


@pytest.mark.parametrize(
    "restriction_type", [PageViewRestriction.PASSWORD, PageViewRestriction.LOGIN]
)
def test_the_first_private_page_is_protected_at_once(client, post, restriction_type):
    prime(client)
    PageViewRestriction.objects.create(
        page=post, restriction_type=restriction_type, password="s3cret"
    )
    assert any_view_restrictions() is True
    assert_protected(client, restriction_type)


def test_a_password_visitor_gets_the_page_and_it_is_never_stored(post):
    restriction = PageViewRestriction.objects.create(
        page=post, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    visitor = Client()
    form = visitor.get("/blog/secret/")
    assert "Secret post" not in form.content.decode()
    action = f"/_util/authenticate_with_password/{restriction.pk}/{post.pk}/"
    visitor.post(action, {"password": "s3cret", "return_url": "/blog/secret/"})
    assert "Secret post" in visitor.get("/blog/secret/").content.decode()

    stranger = Client()
    for _ in range(2):
        assert "Secret post" not in stranger.get("/blog/secret/").content.decode()


def test_removing_the_last_restriction_makes_the_page_public_again(client, post):
    restriction = PageViewRestriction.objects.create(
        page=post, restriction_type=PageViewRestriction.LOGIN
    )
    assert client.get("/blog/secret/").status_code == 302
    restriction.delete()
    assert any_view_restrictions() is False
    assert client.get("/blog/secret/").status_code == 200


CREATE_IN_ANOTHER_PROCESS = """
from wagtail.models import Page, PageViewRestriction
PageViewRestriction.objects.create(
    page=Page.objects.get(pk={page_id}), restriction_type="login"
)
"""


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_restriction_made_by_another_process_is_seen_at_once(client, post):
    prime(client)
    database = settings.DATABASES["default"]
    url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "site_config.settings.test",
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
    }
    subprocess.run(  # nosec B603 - fixed argv
        [sys.executable, "manage.py", "shell", "-c",
         CREATE_IN_ANOTHER_PROCESS.format(page_id=post.pk)],
        cwd=settings.BASE_DIR, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip

    assert_protected(client, PageViewRestriction.LOGIN)
