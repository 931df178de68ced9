"""What a manager does to others' work: switch mailings off and on, block users.

Each action is recorded in Wagtail's history of the object (log_actions). Disabling
a mailing or blocking its owner also cancels what of it is sending (issue 10).
"""

from django.db import transaction
from django.db.models import Q
from wagtail.log_actions import log

from accounts.models import User

from .control import cancel_live_runs_of
from .models import Mailing, sees_every_owner
from .permissions import is_usable

DISABLE_ACTION = "mailing.disable"
ENABLE_ACTION = "mailing.enable"
BLOCK_ACTION = "mailing.block_user"
UNBLOCK_ACTION = "mailing.unblock_user"


def may_block(user) -> bool:
    return is_usable(user) and user.has_perm("mailing.block_users")


def may_block_user(actor, target: User) -> bool:
    """Managers block mailing users: not superusers, each other or themselves."""
    return (
        may_block(actor)
        and not target.is_superuser
        and target.pk != actor.pk
        and not sees_every_owner(target)
    )


@transaction.atomic
def set_mailing_enabled(mailing: Mailing, enabled: bool, by: User) -> None:
    Mailing.objects.filter(pk=mailing.pk).update(is_enabled=enabled)
    mailing.is_enabled = enabled
    if not enabled:
        cancel_live_runs_of(Q(pk=mailing.pk))
    log(mailing, ENABLE_ACTION if enabled else DISABLE_ACTION, user=by)


@transaction.atomic
def set_user_blocked(user: User, blocked: bool, by: User) -> None:
    """A blocked user is signed out on their next request (BlockedUserLogoutMiddleware),
    their runs in progress are cancelled and the scheduler skips their mailings."""
    User.objects.filter(pk=user.pk).update(is_blocked=blocked)
    user.is_blocked = blocked
    if blocked:
        cancel_live_runs_of(Q(owner_id=user.pk))
    log(user, BLOCK_ACTION if blocked else UNBLOCK_ACTION, user=by)
