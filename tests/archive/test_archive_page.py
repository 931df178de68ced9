"""The public archive: only mailings their owners opted in, each issue addressed to
nobody, paginated, cached like the blog and dropped at once on opt-out."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from archive.models import ArchivePage
from home.page_cache import HEADER
from mailing import services
from mailing.issues import snapshot
from mailing.models import MailingRun
from mailing.rendering import prepare_message
from mailing.sending import pipeline
from tests.factories import (
    home_page,
    make_client,
    make_mailing,
    make_message,
    make_user,
    translate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def archive():
    page = home_page().add_child(instance=ArchivePage(title="Archive", slug="archive"))
    page.save_revision().publish()
    return page


def sent_mailing(owner, name, *, opted_in, subject="Issue for {{ full_name }}"):
    message = make_message(
        owner, subject=subject, body="Dear {{ full_name }} ({{ email }})."
    )
    client = make_client(
        owner, full_name="Private Person", email=f"private.{len(name)}@example.org"
    )
    mailing = make_mailing(
        owner, name=name, message=message, clients=[client], public_archive=opted_in
    )
    run = services.open_run(mailing, "manual", timezone.now())
    pipeline.send_run(run.pk)
    run.refresh_from_db()
    assert run.status == MailingRun.Status.FINISHED and mail.outbox
    return mailing, run


def test_only_opted_in_mailings_and_their_sent_issues_are_public(client, archive):
    owner = make_user(language="en")
    public, public_run = sent_mailing(owner, "Open letters", opted_in=True)
    private, private_run = sent_mailing(owner, "Closed circle", opted_in=False)
    make_mailing(owner, name="Never sent", public_archive=True)

    index = client.get("/archive/").content.decode()
    issues = client.get(f"/archive/{public.pk}/").content.decode()

    assert "<h1>Archive</h1>" in index
    assert "Open letters" in index
    assert "Closed circle" not in index and "Never sent" not in index
    assert "<h1>Open letters</h1>" in issues
    assert "Issue for reader" in issues
    for path in (
        f"/archive/{private.pk}/",
        f"/archive/{private.pk}/{private_run.pk}/",
        f"/archive/{private.pk}/{private_run.pk}/email/",
        f"/archive/{public.pk}/{private_run.pk}/",  # another mailing's run
        f"/archive/{public.pk}/{private_run.pk}/email/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/archive/{public.pk}/{public_run.pk}/").status_code == 200


def test_an_issue_is_shown_addressed_to_nobody(client, archive):
    owner = make_user(language="en")
    mailing, run = sent_mailing(owner, "Open letters", opted_in=True)

    page = client.get(f"/archive/{mailing.pk}/{run.pk}/").content.decode()
    email = client.get(f"/archive/{mailing.pk}/{run.pk}/email/")
    shown = email.content.decode()

    assert "<h1>Issue for reader</h1>" in page
    assert f'src="/archive/{mailing.pk}/{run.pk}/email/"' in page
    assert "Dear reader" in shown
    assert "Private Person" not in page + shown
    assert "@example.org" not in page + shown
    assert "/unsubscribe/" not in shown and "/web/" not in shown
    assert "default-src 'none'" in email["Content-Security-Policy"]


def test_an_issue_reads_no_query_parameter_so_none_keys_an_entry(client, archive):
    owner = make_user(language="en")
    mailing, run = sent_mailing(owner, "Open letters", opted_in=True)

    for suffix in ("", "email/"):
        address = f"/archive/{mailing.pk}/{run.pk}/{suffix}"
        response = client.get(address + "?page=7&utm_source=x")

        assert response.status_code == 301
        assert response["Location"] == address


def test_issues_are_paginated_newest_first(client, archive):
    owner = make_user(language="en")
    mailing, _first = sent_mailing(owner, "Weekly", opted_in=True)
    base = timezone.now()
    for n in range(ArchivePage.page_size):
        message = make_message(owner, subject=f"Number {n}")
        MailingRun.objects.create(
            mailing=mailing,
            kind="manual",
            slot=base + timezone.timedelta(days=n + 1),
            status=MailingRun.Status.FINISHED,
            sent_count=1,
            content=snapshot(prepare_message(message)),
        )

    translate(archive, title="Archive")
    first = client.get(f"/en/archive/{mailing.pk}/").content.decode()
    second = client.get(f"/en/archive/{mailing.pk}/?page=2").content.decode()

    assert first.index("Number 19") < first.index("Number 18")
    assert "Issue for reader" not in first and "Issue for reader" in second
    assert "Page 1 of 2" in first


@pytest.mark.redis
def test_archive_pages_are_cached_and_dropped_when_the_owner_opts_out(client, archive):
    owner = make_user(language="en")
    mailing, run = sent_mailing(owner, "Open letters", opted_in=True)
    paths = ["/archive/", f"/archive/{mailing.pk}/", f"/archive/{mailing.pk}/{run.pk}/"]
    for path in paths:
        assert client.get(path)[HEADER] == "miss"
        assert client.get(path)[HEADER] == "hit"

    mailing.public_archive = False
    mailing.save()

    assert "Open letters" not in client.get("/archive/").content.decode()
    for path in paths[1:]:
        assert client.get(path).status_code == 404, path
