"""The periodic tasks: scheduled publishing and the view count flush."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from blog.models import BlogPage
from blog.services import record_view
from blog.tasks import flush_view_counts_task, publish_scheduled_pages
from home.page_cache import HEADER
from tests.factories import make_blog_index, make_post

pytestmark = pytest.mark.django_db


def test_a_scheduled_post_goes_live_when_due_and_drops_the_cache(client):
    index = make_blog_index()
    post = make_post(index, title="Scheduled post", slug="scheduled", publish=False)
    post.go_live_at = timezone.now() + timedelta(minutes=5)
    post.save_revision().publish()  # only schedules: go_live_at is ahead
    assert "Scheduled post" not in client.get("/blog/").content.decode()

    publish_scheduled_pages()  # not due yet
    assert not BlogPage.objects.get(pk=post.pk).live

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        publish_scheduled_pages()
    assert BlogPage.objects.get(pk=post.pk).live
    response = client.get("/blog/")
    assert response[HEADER] == "miss"
    assert "Scheduled post" in response.content.decode()


@pytest.mark.redis
def test_the_flush_task_moves_counts_and_drops_no_page(client):
    post = make_post(make_blog_index(), slug="read")
    browser = "Mozilla/5.0 Firefox/128.0"
    client.get("/blog/read/", HTTP_USER_AGENT=f"{browser} one")
    client.get("/blog/")
    for _ in range(4):
        record_view(post.pk)
    assert client.get("/blog/read/", HTTP_USER_AGENT=f"{browser} two")[HEADER] == "hit"

    flush_view_counts_task()

    post.refresh_from_db()
    assert post.view_count == 6
    # The site's cached pages stay: the shown count catches up when the post's
    # entry expires (page_cache_seconds), as a render shows it now.
    assert client.get("/blog/")[HEADER] == "hit"
    assert client.get("/blog/read/")[HEADER] == "hit"
    client.cookies["sessionid"] = "no-such-session"  # past the page cache
    assert 'data-view-count="6"' in client.get("/blog/read/").content.decode()
