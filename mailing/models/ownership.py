"""The one ownership rule, shared by every owned model."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Patterns of what may stand, not of what may not (inverse_match): the OpenAPI
# schema copies a RegexValidator's pattern and ignores inverse_match, so it told
# API clients that a name must contain a line break.
no_line_breaks = RegexValidator(
    r"^[^\r\n]*\Z",
    message=_("Line breaks are not allowed here."),
)

# Text that stays one line wherever it is shown or sent (an email's header, a
# listing, a CSV cell, a log line): no line breaks, no other control characters
# (a tab, a bell, an escape, C1 controls), which were stored as sent or quietly
# taken out, and no bidirectional embeddings, overrides or isolates, which turn
# the rest of the line around ("\u202e" makes "gpj.exe" read "exe.jpg"). The
# marks (U+200E, U+200F) that right-to-left text needs stay allowed.
single_line = RegexValidator(
    r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*\Z",
    message=_(
        "Line breaks, control characters and text direction overrides are not "
        "allowed here."
    ),
)


def sees_every_owner(user) -> bool:
    return user.is_superuser or user.has_perm("mailing.view_all_owners")


def works_only_with_mailings(user) -> bool:
    """Mailing users and managers: Wagtail's page editing is not theirs."""
    return not user.is_superuser and user.has_perm("mailing.view_mailing")


def sees_any_rows(user) -> bool:
    """Whether `user` may see rows at all (their own at least)."""
    return user.is_authenticated and user.is_active and not user.is_blocked


def sees_whole_tables(user) -> bool:
    """Whether `user` may see every row of each owned table: a query for them
    needs no filter (nor join) by owner."""
    return sees_any_rows(user) and sees_every_owner(user)


def owned_by(queryset, user, owner_lookup: str = "owner"):
    """The one ownership rule: what `user` may see. Managers see every owner."""
    if sees_whole_tables(user):
        return queryset
    if not sees_any_rows(user):
        return queryset.none()
    return queryset.filter(**{owner_lookup: user})


class OwnedQuerySet(models.QuerySet):
    owner_lookup = "owner"

    def for_user(self, user):
        return owned_by(self, user, self.owner_lookup)


class MailingOwnedQuerySet(OwnedQuerySet):
    owner_lookup = "mailing__owner"


def is_owned_model(model) -> bool:
    return isinstance(model._default_manager.all(), OwnedQuerySet)


def owner_id_of(instance) -> int | None:
    """The owner of an owned object, found along its queryset's owner lookup."""
    *path, owner = type(instance)._default_manager.all().owner_lookup.split("__")
    for step in path:
        instance = getattr(instance, step)
    return getattr(instance, f"{owner}_id")
