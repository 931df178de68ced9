"""The data migration turning each mailing's recipients into a list of its own."""

import pytest
from django.utils import timezone

from .test_history_migration import latest_schema_afterwards, migrate  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE = [("mailing", "0018_api_attempt_keyset")]
AFTER = [("mailing", "0021_audiences_drop_clients")]


def test_each_mailings_recipients_become_its_own_targeted_list_and_back():
    apps = migrate(BEFORE)
    User = apps.get_model("accounts", "User")
    Client = apps.get_model("mailing", "Client")
    Message = apps.get_model("mailing", "Message")
    Mailing = apps.get_model("mailing", "Mailing")
    owner = User.objects.create(email="owner@example.com")
    other = User.objects.create(email="other@example.com")
    ann, bob, cid = (
        Client.objects.create(owner=owner, email=f"{n}@example.org", full_name=n)
        for n in ("ann", "bob", "cid")
    )
    cid.unsubscribed_at = timezone.now()
    cid.save()
    theirs = Client.objects.create(owner=other, email="z@example.org", full_name="Z")

    def mailing(user, name, clients):
        message = Message.objects.create(owner=user, subject="S", body="B")
        made = Mailing.objects.create(
            owner=user, name=name, message=message, first_send_at=timezone.now()
        )
        made.clients.set(clients)
        return made.pk

    weekly = mailing(owner, "Еженедельник", [ann, bob, cid])
    offers = mailing(owner, "Offers", [bob])
    empty = mailing(owner, "Nobody yet", [])
    foreign = mailing(other, "Their news", [theirs])

    apps = migrate(AFTER)
    Mailing = apps.get_model("mailing", "Mailing")
    Subscription = apps.get_model("mailing", "Subscription")

    def members(pk):
        (own,) = Mailing.objects.get(pk=pk).lists.all()
        rows = Subscription.objects.filter(mailing_list=own)
        return own, dict(rows.values_list("client__email", "status"))

    own, weekly_members = members(weekly)
    assert own.name == "Еженедельник — получатели" and own.owner_id == owner.pk
    assert weekly_members == {
        "ann@example.org": "subscribed",
        "bob@example.org": "subscribed",
        "cid@example.org": "unsubscribed",
    }
    assert members(offers)[1] == {"bob@example.org": "subscribed"}
    assert members(empty)[1] == {}
    own, their_members = members(foreign)
    assert own.owner_id == other.pk and their_members == {"z@example.org": "subscribed"}
    Group = apps.get_model("auth", "Group")
    granted = Group.objects.get(name="Mailing users").permissions
    assert granted.filter(codename="add_mailinglist").exists()

    apps = migrate(BEFORE)
    Mailing = apps.get_model("mailing", "Mailing")
    back = Mailing.objects.get(pk=weekly).clients.values_list("email", flat=True)
    assert sorted(back) == ["ann@example.org", "bob@example.org", "cid@example.org"]
