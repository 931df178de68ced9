"""Who an email comes from: a confirmed sender identity of the owner, or the site.

An identity becomes usable only when its owner opens a signed, expiring link sent
to its address and confirms while signed in: the mailbox and the account must
belong to one person, so nobody sends as someone else. The link is bound to the
address, so changing the address (which drops the confirmation) kills old links.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.emails import new_message_id
from accounts.models import normalize_email
from accounts.throttling import Attempt, Throttle, reserve

from .models import Message, SenderIdentity
from .rendering import single_line

logger = logging.getLogger(__name__)

CONFIRM_SALT = "mailing.sender-identity"
CONFIRM_MAX_AGE = timedelta(days=3)
# Links mailed to an address an owner typed: someone waiting asks again once or
# twice; more, or many addresses, is using Vestnik to fill strangers' inboxes.
# Counted per owner (by the account's address: unique, and never reused as a
# rolled-back id may be) and per owner and address.
CONFIRMATIONS = Throttle(
    "sender-confirmations", max_per_ip=20, max_per_account=3, window_seconds=3600
)


@dataclass(frozen=True)
class Sender:
    """What an email of a message says about its sender."""

    from_header: str
    reply_to: str = ""
    postal_address: str = ""
    name: str = ""


def site_sender() -> Sender:
    name, _address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return Sender(
        from_header=settings.DEFAULT_FROM_EMAIL,
        postal_address=settings.MAIL_POSTAL_ADDRESS,
        name=name or settings.WAGTAIL_SITE_NAME,
    )


def sender_for(message: Message) -> Sender:
    """The message's identity if it is still the owner's and confirmed, else the
    site's address: an unconfirmed identity is never used, whatever saved it."""
    if message.sender_id is None:
        return site_sender()
    identity = (
        SenderIdentity.objects.usable_by(message.owner_id)
        .filter(pk=message.sender_id)
        .first()
    )
    if identity is None:
        logger.warning(
            "message %s names sender identity %s, which is not a confirmed identity "
            "of its owner: the site's address is used",
            message.pk,
            message.sender_id,
        )
        return site_sender()
    # One line whatever wrote the row: a name saved past the form's check (shell,
    # data migration) put a raw line break, and a header of its own, in From.
    name = single_line(identity.from_name)
    return Sender(
        from_header=formataddr((name, identity.from_email)),
        reply_to=single_line(identity.reply_to),
        postal_address=identity.postal_address,
        name=name,
    )


class InvalidConfirmation(Exception):
    """The link is tampered with, expired, or for an address no longer there."""


def make_confirmation_token(identity: SenderIdentity) -> str:
    payload = {"i": identity.pk, "e": identity.from_email.lower()}
    return signing.dumps(payload, salt=CONFIRM_SALT)


def read_confirmation_token(token: str) -> SenderIdentity:
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
        identity = SenderIdentity.objects.select_related("owner").get(pk=data["i"])
    except (signing.BadSignature, SenderIdentity.DoesNotExist, KeyError, TypeError):
        raise InvalidConfirmation from None
    if identity.from_email.lower() != data.get("e"):
        raise InvalidConfirmation
    return identity


def confirm_identity(identity: SenderIdentity, user) -> bool:
    """Mark it confirmed for its owner; True if this call did it."""
    if identity.owner_id != user.pk:
        raise InvalidConfirmation
    return bool(
        SenderIdentity.objects.filter(
            pk=identity.pk,
            from_email=identity.from_email,
            confirmed_at__isnull=True,
        ).update(confirmed_at=timezone.now())
    )


def send_confirmation(identity_id: int) -> None:
    """The confirmation link, to the identity's own address, in the owner's language."""
    identity = SenderIdentity.objects.select_related("owner").filter(pk=identity_id)
    identity = identity.first()
    if identity is None or identity.is_confirmed:
        return
    language = identity.owner.language
    with translation.override(language):
        path = reverse(
            "mailing:confirm_sender", args=[make_confirmation_token(identity)]
        )
        context = {
            "identity": identity,
            "link": settings.BASE_URL + path,
            "owner_email": identity.owner.email,
            "site_name": settings.WAGTAIL_SITE_NAME,
        }
        subject = render_to_string("mailing/email/confirm_sender.subject.txt", context)
        text = render_to_string("mailing/email/confirm_sender.txt", context)
        html = render_to_string("mailing/email/confirm_sender.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[identity.from_email],
        headers={"Message-ID": new_message_id()},
    )
    email.attach_alternative(html, "text/html")
    email.send()


def request_confirmation(identity: SenderIdentity) -> bool:
    """Send the confirmation link once the identity is committed (via Huey); the
    admin's forms and the API both ask here. False when the owner asked too often
    (CONFIRMATIONS): no link goes out."""
    from .tasks import send_sender_confirmation

    if identity.is_confirmed:
        return False
    if not may_send_confirmation(identity):
        return False
    identity_id = identity.pk
    transaction.on_commit(lambda: send_sender_confirmation(identity_id))
    return True


def may_send_confirmation(identity: SenderIdentity) -> bool:
    """Count this link; False past the hour's limit for the owner or the address."""
    owner = f"owner:{identity.owner.email.lower()}"
    address = f"{owner}:{normalize_email(identity.from_email).lower()}"
    return reserve(Attempt(CONFIRMATIONS, owner, address)) is None


def ask_for_confirmation(identity: SenderIdentity) -> bool | None:
    """After a save: an identity not (or no longer) confirmed gets a link. True if
    one is on its way, False if the owner asked too often, None if confirmed."""
    identity.refresh_from_db(fields=["confirmed_at"])
    if identity.is_confirmed:
        return None
    return request_confirmation(identity)


def too_many_links_message(identity: SenderIdentity) -> str:
    return _(
        "No new link was sent to %(email)s: too many confirmation links were asked "
        "for in the last hour. Try again later."
    ) % {"email": identity.from_email}
