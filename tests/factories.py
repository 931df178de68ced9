"""Small builders for test data. Each takes only what a test cares about."""

import itertools
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import EDITORS_GROUP, MAILING_USERS_GROUP, MANAGERS_GROUP, User
from mailing.models import Client, Mailing, Message

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-9"  # noqa: S105 - test password

ROLE_GROUPS = {
    "mailing_user": MAILING_USERS_GROUP,
    "manager": MANAGERS_GROUP,
    "editor": EDITORS_GROUP,
}


def make_user(
    role: str = "mailing_user", *, email: str | None = None, **fields
) -> User:
    """A verified, active user in the group of `role` ("superuser" for a superuser)."""
    email = email or f"user{next(_seq)}@example.com"
    fields.setdefault("email_verified_at", timezone.now())
    if role == "superuser":
        return User.objects.create_superuser(email=email, password=PASSWORD, **fields)
    user = User.objects.create_user(email=email, password=PASSWORD, **fields)
    if role in ROLE_GROUPS:
        user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
    return user


def make_client(owner: User, **fields) -> Client:
    n = next(_seq)
    fields.setdefault("email", f"client{n}@example.org")
    fields.setdefault("full_name", f"Client {n}")
    return Client.objects.create(owner=owner, **fields)


def make_message(owner: User, **fields) -> Message:
    fields.setdefault("subject", "Hello, {{ full_name }}")
    fields.setdefault("body", "Dear {{ full_name }}, news for {{ email }}.")
    return Message.objects.create(owner=owner, **fields)


def make_mailing(owner: User, *, clients=(), message: Message | None = None, **fields):
    fields.setdefault("name", f"Mailing {next(_seq)}")
    fields.setdefault("first_send_at", timezone.now() + timedelta(hours=1))
    fields.setdefault("next_send_at", fields["first_send_at"])
    mailing = Mailing.objects.create(
        owner=owner, message=message or make_message(owner), **fields
    )
    mailing.clients.set(clients)
    return mailing
