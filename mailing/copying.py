"""Copying a mailing: a new one with its message, schedule and audience.

The copy is not stored until its owner saves the form it opens in: nothing is
scheduled or sent behind their back, and a first send that has already passed is
left for them to choose again.
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Mailing

NAME_LENGTH = Mailing._meta.get_field("name").max_length
SCHEDULE_FIELDS = (
    "periodicity",
    "window_start",
    "window_end",
    "track_engagement",
    "is_digest",
    "public_archive",
    # A mailing a manager switched off stays off in its copies.
    "is_enabled",
    # The audience: the same lists (as the form's initial) or all clients, and
    # the same segment.
    "all_clients",
    "segment_id",
)


def copy_of(mailing: Mailing) -> Mailing:
    """An unsaved copy: status `created`, no next send until it is saved."""
    now = timezone.now()
    name = _("Copy of %(name)s") % {"name": mailing.name}
    copy = Mailing(
        owner_id=mailing.owner_id,
        message_id=mailing.message_id,
        name=name[:NAME_LENGTH],
        first_send_at=mailing.first_send_at if mailing.first_send_at > now else None,
        end_at=mailing.end_at if mailing.end_at and mailing.end_at > now else None,
        **{field: getattr(mailing, field) for field in SCHEDULE_FIELDS},
    )
    return copy


def list_ids(mailing: Mailing) -> list[int]:
    return list(mailing.lists.values_list("pk", flat=True))
