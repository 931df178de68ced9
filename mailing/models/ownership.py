"""The one ownership rule, shared by every owned model."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

no_line_breaks = RegexValidator(
    r"[\r\n]",
    inverse_match=True,
    message=_("Line breaks are not allowed here."),
)


def sees_every_owner(user) -> bool:
    return user.is_superuser or user.has_perm("mailing.view_all_owners")


class OwnedQuerySet(models.QuerySet):
    owner_lookup = "owner"

    def for_user(self, user):
        """The one ownership rule: what `user` may see. Managers see every owner."""
        if not user.is_authenticated or not user.is_active or user.is_blocked:
            return self.none()
        if sees_every_owner(user):
            return self
        return self.filter(**{self.owner_lookup: user})


class MailingOwnedQuerySet(OwnedQuerySet):
    owner_lookup = "mailing__owner"
