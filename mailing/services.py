"""Mailing services.

# ---------------------------------------------------------------------------------
# REPLACED AT MERGE by the sending branch (issue: sending engine). This section is a
# stand-in with the same contract so the admin's buttons and tests work here:
#   send_now(mailing, requested_by) -> MailingRun   (queues mailing.tasks.send_run)
#   send_test(mailing, to_user) -> None             (raises SendError)
# ---------------------------------------------------------------------------------
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .models import Client, Mailing, MailingRun
from .rendering import render_email

logger = logging.getLogger(__name__)


class SendError(Exception):
    """A send failed; the message is fit to show to the user."""


def send_now(mailing: Mailing, requested_by: User) -> MailingRun:
    from .tasks import send_run

    run = MailingRun.objects.create(
        mailing=mailing,
        kind=MailingRun.Kind.MANUAL,
        slot=timezone.now(),
        status=MailingRun.Status.PENDING,
    )
    logger.info(
        "Run %s of mailing %s requested by %s", run.pk, mailing.pk, requested_by.pk
    )
    transaction.on_commit(lambda: send_run(run.pk))
    return run


def send_test(mailing: Mailing, to_user: User) -> None:
    client = mailing.clients.order_by("pk").first() or Client(
        owner=to_user, email=to_user.email, full_name=to_user.get_full_name()
    )
    rendered = render_email(mailing.message, client, unsubscribe_url="#")
    email = EmailMultiAlternatives(
        subject=_("[Test] %(subject)s") % {"subject": rendered.subject},
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to_user.email],
    )
    email.attach_alternative(rendered.html, "text/html")
    try:
        email.send()
    except Exception as error:  # noqa: BLE001 - any backend failure becomes a message
        logger.warning("Test send of mailing %s failed: %r", mailing.pk, error)
        raise SendError(
            _("The test email could not be sent: %(error)s")
            % {"error": error.__class__.__name__}
        ) from error


# --------------------------------- end of stand-in --------------------------------
