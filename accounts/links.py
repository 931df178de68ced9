"""Signed links in account emails (verification, email change).

A link carries a signed payload (django.core.signing) with the user id and a hash of
the account's state. Using a link changes that state (activation, a new email), so
the same link is dead afterwards; the signature's timestamp makes it expire.
"""

from datetime import timedelta

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import User

LINK_MAX_AGE = timedelta(days=3)
VERIFY_SALT = "accounts.verify-email"
EMAIL_CHANGE_SALT = "accounts.change-email"


class InvalidLink(Exception):
    """The link is tampered with, expired, or already used."""


def account_state(user: User) -> str:
    state = f"{user.pk}|{user.email}|{user.is_active}|{user.email_verified_at}"
    # The password hash too: a password change kills a pending email change.
    return salted_hmac("accounts.state", f"{state}|{user.password}").hexdigest()


def make_token(user: User, salt: str, **extra: str) -> str:
    return signing.dumps({"u": user.pk, "s": account_state(user), **extra}, salt=salt)


def load_token(token: str, salt: str) -> tuple[User, dict]:
    try:
        data = signing.loads(token, salt=salt, max_age=LINK_MAX_AGE)
        user = User.objects.get(pk=data["u"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError) as exc:
        raise InvalidLink from exc
    if not constant_time_compare(account_state(user), data.get("s", "")):
        raise InvalidLink
    return user, data
