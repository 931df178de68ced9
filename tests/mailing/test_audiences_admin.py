"""Lists in the admin (issue 12): the lists listing and its counts, the clients
listing's list filters and column, "add selected to list"; each only for the owner."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from mailing.models import MailingList, Subscription
from tests.factories import english, make_client, make_list, make_user

pytestmark = pytest.mark.django_db

STATUS = Subscription.Status
HOME = "/admin/"
NAMES = ("ann", "bob", "cid")


def refused(response) -> bool:
    return (
        response.status_code == 302
        and response["Location"] == HOME
        and any(get_messages(response.wsgi_request))
    )


@pytest.fixture
def owner_lists():
    owner = english(make_user())
    ann, bob, cid = (make_client(owner, email=f"{n}@example.org") for n in NAMES)
    news = make_list(owner, name="News", clients=[ann, bob])
    Subscription.objects.create(client=cid, mailing_list=news, status="unsubscribed")
    offers = make_list(owner, name="Offers", clients=[bob], status="unconfirmed")
    return owner, news, offers


def listing(client, **params):
    response = client.get(reverse("mailing_client:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_lists_listing_counts_members_by_status(client, owner_lists):
    owner, news, offers = owner_lists
    client.force_login(owner)

    response = client.get(reverse("mailing_mailinglist:list"))

    rows = {row.pk: row for row in response.context["object_list"]}
    assert (rows[news.pk].subscribed_count, rows[news.pk].unsubscribed_count) == (2, 1)
    assert rows[offers.pk].unconfirmed_count == 1
    assert "Subscribed" in response.content.decode()


def test_clients_filter_by_list_and_status_and_show_their_lists(client, owner_lists):
    owner, news, offers = owner_lists
    client.force_login(owner)

    on_news = listing(client, mailing_list=news.pk, list_status=STATUS.SUBSCRIBED)
    left_news = listing(client, mailing_list=news.pk, list_status=STATUS.UNSUBSCRIBED)
    unconfirmed = listing(client, list_status=STATUS.UNCONFIRMED)

    assert "ann@" in on_news and "bob@" in on_news and "cid@" not in on_news
    assert "cid@" in left_news and "ann@" not in left_news
    assert "bob@" in unconfirmed and "ann@" not in unconfirmed
    assert "News, Offers (Unconfirmed)" in listing(client)


def test_another_owners_list_is_neither_listed_nor_opened(client, owner_lists):
    owner, news, _offers = owner_lists
    stranger = make_user()
    client.force_login(stranger)

    lists = client.get(reverse("mailing_mailinglist:list"))
    assert "News" not in lists.content.decode()
    assert refused(client.get(reverse("mailing_mailinglist:edit", args=[news.pk])))
    assert refused(client.post(reverse("mailing_mailinglist:delete", args=[news.pk])))
    assert MailingList.objects.filter(pk=news.pk).exists()
    # Nor used as a filter on one's own clients.
    assert "News" not in listing(client)


def bulk_url(*clients) -> str:
    ids = "&".join(f"id={c.pk}" for c in clients)
    return (
        reverse("wagtail_bulk_action", args=["mailing", "client", "add_to_list"])
        + f"?{ids}"
    )


def test_add_selected_to_list_keeps_an_opt_out(client, owner_lists):
    owner, news, offers = owner_lists
    ann, cid = (owner.clients.get(email=f"{n}@example.org") for n in ("ann", "cid"))
    fresh = make_client(owner, email="dan@example.org")
    client.force_login(owner)

    confirm = client.get(bulk_url(ann, cid, fresh))
    done = client.post(bulk_url(ann, cid, fresh), {"mailing_list": offers.pk})

    assert confirm.status_code == 200 and "dan@example.org" in confirm.content.decode()
    assert done.status_code == 302
    statuses = dict(offers.subscriptions.values_list("client__email", "status"))
    assert statuses == {
        "ann@example.org": STATUS.SUBSCRIBED,
        "bob@example.org": STATUS.UNCONFIRMED,  # untouched
        "cid@example.org": STATUS.SUBSCRIBED,
        "dan@example.org": STATUS.SUBSCRIBED,
    }
    # An opt-out of a list stays: adding to News again changes nothing for cid.
    client.post(bulk_url(cid), {"mailing_list": news.pk})
    assert news.subscriptions.get(client=cid).status == STATUS.UNSUBSCRIBED


def test_nobody_adds_to_a_list_or_clients_of_someone_else(client, owner_lists):
    owner, news, _offers = owner_lists
    ann = owner.clients.get(email="ann@example.org")
    stranger = make_user()
    theirs = make_client(stranger)
    own_list = make_list(stranger)
    client.force_login(stranger)

    # A's client is not theirs to select (404: nothing they may see)...
    assert client.post(bulk_url(ann), {"mailing_list": own_list.pk}).status_code == 404
    # ... and A's list is not a choice for their own client.
    response = client.post(bulk_url(theirs), {"mailing_list": news.pk})
    assert response.status_code == 200 and response.context["form"].errors
    assert not news.subscriptions.filter(client=theirs).exists()
    assert not own_list.subscriptions.exists()

    manager = make_user("manager")
    client.force_login(manager)
    seen = client.get(bulk_url(ann))
    assert seen.status_code == 200  # a manager sees the row, may act on none
    client.post(bulk_url(ann), {"mailing_list": news.pk})
    assert news.subscriptions.count() == 3
