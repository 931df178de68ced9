"""Time zones: IANA names, the owner's zone, a recipient's zone.

An owner's zone is Wagtail's account preference (`UserProfile.current_time_zone`),
else the site's TIME_ZONE: the zone the admin already shows them times in. A
client's zone is their own field, blank meaning the owner's.
"""

import logging
import zoneinfo
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


@cache
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone of that name; None for a blank or unknown name."""
    return ZoneInfo(name) if name in zone_names() else None


def validate_time_zone(name: str) -> None:
    if name and zone_named(name) is None:
        raise ValidationError(
            _("“%(name)s” is not a time zone name such as Europe/Berlin."),
            code="invalid_time_zone",
            params={"name": name},
        )


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def owner_zone(owner) -> ZoneInfo:
    """The owner's account preference, else the site's zone (as Wagtail's admin)."""
    # A missing profile raises a subclass of AttributeError: getattr's default.
    profile = getattr(owner, "wagtail_userprofile", None)
    name = profile.current_time_zone if profile is not None else ""
    zone = zone_named(name)
    if name and zone is None:
        # Written around the account form (a shell): the site's zone, not a crash.
        logger.warning("user %s has an unknown time zone %r", owner.pk, name)
    return zone or site_zone()


def client_zone(name: str, owner_default: ZoneInfo) -> ZoneInfo:
    """A recipient's zone: their own, else the owner's."""
    return zone_named(name) or owner_default
