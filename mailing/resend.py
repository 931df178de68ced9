"""Resending the rows left `unknown`: an explicit choice of the mailing's owner.

A row is `unknown` when its consumer died during the send: the email may or may
not have gone out, so nothing resends it by itself. The owner may resend those
recipients in a manual run of their own, knowing some may get the email twice.
"""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from .models import Attempt, Mailing, MailingRun
from .services import SendError, check_may_send, open_manual_run


def unresolved_unknown(mailing: Mailing):
    """The mailing's `unknown` rows whose recipient has had no attempt since."""
    later = Attempt.objects.filter(
        mailing_id=OuterRef("mailing_id"),
        client_id=OuterRef("client_id"),
        pk__gt=OuterRef("pk"),
    )
    return Attempt.objects.filter(
        mailing=mailing, status=Attempt.Status.UNKNOWN
    ).exclude(Exists(later))


def resend_unknown(mailing: Mailing, requested_by) -> MailingRun:
    """A manual run to the recipients of the unresolved `unknown` rows.

    Recipients since unsubscribed, suppressed or removed from the mailing get no
    row, as in any run.
    """
    check_may_send(mailing, requested_by)
    client_ids = sorted(
        set(unresolved_unknown(mailing).values_list("client_id", flat=True))
    )
    if not client_ids:
        raise SendError(_("No recipient of this mailing is left unknown."))
    return open_manual_run(mailing, only_clients=client_ids)
