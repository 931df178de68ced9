"""Sign-up, email verification and email change.

Links carry a signed payload (django.core.signing) with the user id and a hash of
the account's state. Using a link changes that state (activation, a new email), so
the same link is dead afterwards; the signature's timestamp makes it expire.
"""

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .emails import absolute_url, send_account_email
from .models import MAILING_USERS_GROUP, User, normalize_email

LINK_MAX_AGE = timedelta(days=3)
VERIFY_SALT = "accounts.verify-email"
EMAIL_CHANGE_SALT = "accounts.change-email"
# One verification email per address per minute: the resend form cannot spam a
# stranger's inbox.
RESEND_INTERVAL_SECONDS = 60


class InvalidLink(Exception):
    """The link is tampered with, expired, or already used."""


class EmailTaken(Exception):
    """Another account has taken the address meanwhile."""


def _account_state(user: User) -> str:
    state = f"{user.pk}|{user.email}|{user.is_active}|{user.email_verified_at}"
    # The password hash too: a password change kills a pending email change.
    return salted_hmac("accounts.state", f"{state}|{user.password}").hexdigest()


def _load_link(token: str, salt: str) -> tuple[User, dict]:
    try:
        data = signing.loads(token, salt=salt, max_age=LINK_MAX_AGE)
        user = User.objects.get(pk=data["u"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError) as exc:
        raise InvalidLink from exc
    if not constant_time_compare(_account_state(user), data.get("s", "")):
        raise InvalidLink
    return user, data


def register(email: str, password: str, language: str) -> None:
    """Create an inactive account and mail its verification link.

    For an address that already has an account the page looks the same; the
    owner gets an email instead (a fresh link if still unverified).
    """
    email = normalize_email(email)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email, password, is_active=False, language=language
                )
        except IntegrityError:  # a parallel sign-up with the same address won
            existing = User.objects.get(email__iexact=email)
        else:
            send_verification_email(user)
            return
    make_password(password)  # the same hashing cost as a new account: timing is equal
    if existing.email_verified_at is None and not existing.is_blocked:
        send_verification_email(existing)
    else:
        send_existing_account_email(existing)


def send_verification_email(user: User) -> bool:
    token = signing.dumps({"u": user.pk, "s": _account_state(user)}, salt=VERIFY_SALT)
    link = absolute_url("accounts:verify_email", user.language, token=token)
    return send_account_email(user.email, "verify_email", user.language, {"link": link})


def send_existing_account_email(user: User) -> bool:
    context = {
        "login_link": absolute_url("accounts:login", user.language),
        "reset_link": absolute_url("accounts:password_reset", user.language),
    }
    return send_account_email(user.email, "existing_account", user.language, context)


def resend_verification(email: str) -> None:
    """Mail a fresh link if the address has an unverified account; else nothing."""
    email = normalize_email(email)
    if not cache.add(f"resend-verification:{email}", 1, RESEND_INTERVAL_SECONDS):
        return
    user = User.objects.filter(
        email__iexact=email, email_verified_at__isnull=True, is_blocked=False
    ).first()
    if user is not None:
        send_verification_email(user)


def verify_email(token: str) -> User:
    user, _ = _load_link(token, VERIFY_SALT)
    if user.email_verified_at is not None:
        raise InvalidLink
    with transaction.atomic():
        user.email_verified_at = timezone.now()
        user.is_active = True
        user.save(update_fields=["email_verified_at", "is_active"])
        user.groups.add(Group.objects.get(name=MAILING_USERS_GROUP))
    return user


def request_email_change(user: User, new_email: str) -> None:
    """Mail a confirmation link to the new address; the account keeps the old one.

    If the new address belongs to another account, its owner is told instead, and
    the requester sees the same page.
    """
    new_email = normalize_email(new_email)
    other = User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).first()
    if other is not None:
        send_existing_account_email(other)
        return
    payload = {"u": user.pk, "e": new_email, "s": _account_state(user)}
    token = signing.dumps(payload, salt=EMAIL_CHANGE_SALT)
    link = absolute_url("accounts:confirm_email_change", user.language, token=token)
    context = {"link": link, "old_email": user.email, "new_email": new_email}
    send_account_email(new_email, "change_email", user.language, context)


def confirm_email_change(token: str) -> User:
    user, data = _load_link(token, EMAIL_CHANGE_SALT)
    new_email = normalize_email(data.get("e", ""))
    if not new_email:
        raise InvalidLink
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        raise EmailTaken
    user.email = new_email
    user.email_verified_at = timezone.now()
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified_at"])
    except IntegrityError as exc:
        raise EmailTaken from exc
    return user
