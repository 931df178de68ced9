"""Sign-up, email verification and email change.

Emails are handed to Huey (accounts.tasks); the links they carry are described in
accounts.links.
"""

import logging

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from huey.api import TaskWrapper
from redis.exceptions import RedisError

from . import tasks
from .emails import MAIL_ERRORS
from .links import EMAIL_CHANGE_SALT, VERIFY_SALT, InvalidLink, load_token
from .models import MAILING_USERS_GROUP, User, normalize_email

logger = logging.getLogger(__name__)

# One verification email per address per minute: the resend form cannot spam a
# stranger's inbox.
RESEND_INTERVAL_SECONDS = 60


class EmailTaken(Exception):
    """Another account has taken the address meanwhile."""


def queue_email(task: TaskWrapper, *args) -> None:
    """Hand an account email to Huey; with the queue unreachable, try it once now.

    Sign-up worked with Redis down before emails were queued, and must still.
    """
    try:
        task(*args)
    except (RedisError, OSError) as error:
        logger.warning("Task queue unreachable (%r): sending the email now", error)
        try:
            task.call_local(*args)
        except MAIL_ERRORS:
            logger.exception("Could not send the email without the queue either")


def register(email: str, language: str) -> None:
    """Create an inactive account without a password and mail its link.

    Whoever follows the link chooses the password (`finish_sign_up`): a password
    typed at sign-up would belong to whoever typed it, who need not own the inbox
    (pre-account hijacking). For an address that already has an account the page
    looks the same; the owner gets an email instead (a fresh link if unverified).
    """
    email = normalize_email(email)
    existing = User.objects.by_email(email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email, None, is_active=False, language=language
                )
        except IntegrityError:  # a parallel sign-up with the same address won
            existing = User.objects.by_email(email).get()
        else:
            # Committed above, so the consumer finds the row.
            queue_email(tasks.send_verification_email, user.pk)
            return
    if existing.email_verified_at is None and not existing.is_blocked:
        queue_email(tasks.send_verification_email, existing.pk)
    else:
        queue_email(tasks.send_existing_account_email, existing.pk)


def resend_verification(email: str) -> None:
    """Mail a fresh link if the address has an unverified account; else nothing."""
    email = normalize_email(email)
    if not cache.add(f"resend-verification:{email}", 1, RESEND_INTERVAL_SECONDS):
        return
    user = (
        User.objects.by_email(email)
        .filter(email_verified_at__isnull=True, is_blocked=False)
        .first()
    )
    if user is not None:
        queue_email(tasks.send_verification_email, user.pk)


def account_to_verify(token: str) -> User:
    """The account a sign-up link is for, while it still waits for its password."""
    user, _ = load_token(token, VERIFY_SALT)
    if user.email_verified_at is not None or user.is_blocked:
        raise InvalidLink
    return user


def finish_sign_up(user: User, password: str) -> User:
    """Verify the address and set the password chosen by whoever followed the link.

    One update claims the account, so of two posts of the same link only one sets
    a password; the changed state kills every other link sent for it.
    """
    with transaction.atomic():
        claimed = User.objects.filter(
            pk=user.pk, email_verified_at__isnull=True, is_blocked=False
        ).update(
            password=make_password(password),
            email_verified_at=timezone.now(),
            is_active=True,
        )
        if not claimed:
            raise InvalidLink
        user.groups.add(Group.objects.get(name=MAILING_USERS_GROUP))
    user.refresh_from_db()
    return user


def request_email_change(user: User, new_email: str) -> None:
    """Mail a confirmation link to the new address; the account keeps the old one.

    If the new address belongs to another account, its owner is told instead, and
    the requester sees the same page.
    """
    new_email = normalize_email(new_email)
    other = User.objects.by_email(new_email).exclude(pk=user.pk).first()
    if other is not None:
        queue_email(tasks.send_existing_account_email, other.pk)
        return
    queue_email(tasks.send_email_change_link, user.pk, new_email)


def confirm_email_change(token: str) -> User:
    user, data = load_token(token, EMAIL_CHANGE_SALT)
    new_email = normalize_email(data.get("e", ""))
    # A block stops the account's own links, as sign-up's (account_to_verify).
    if not new_email or user.is_blocked:
        raise InvalidLink
    if User.objects.by_email(new_email).exclude(pk=user.pk).exists():
        raise EmailTaken
    old_email, user.email = user.email, new_email
    user.email_verified_at = timezone.now()
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified_at"])
    except IntegrityError as exc:
        raise EmailTaken from exc
    # The old address is told once the change is done, as Google and GitHub do: a
    # request never confirmed (a typo, a change of mind) changes nothing and alarms
    # nobody. Asking for the change needed the password, so the notice says that
    # whoever did it knows the password.
    queue_email(tasks.send_email_changed_notice, user.pk, old_email)
    return user
