"""The Attempts listing's run filter, and its chip named by the run's mailing and
start rather than by a number nobody remembers."""

import django_filters
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from wagtail.admin.active_filters import (
    ActiveFilter,
    BaseFilterAdapter,
    register_filter_adapter_class,
)

from .models import MailingRun


class RunFilter(django_filters.NumberFilter):
    """A run by its number (the report links each run to the listing); a run of
    someone else's mailing simply matches nothing."""

    def filter(self, queryset, value):
        if value is None:
            return queryset
        # With the run's mailing: the rows not tried yet are indexed by mailing
        # (mailing.keyset), so a run all sent is not walked to find none.
        mailing = MailingRun.objects.filter(pk=value).values("mailing_id")
        return queryset.filter(run_id=value, mailing_id__in=mailing)


def run_label(run: MailingRun) -> str:
    """The run as a person knows it: its mailing and when it started (or was due)."""
    return _("%(mailing)s, %(time)s") % {
        "mailing": run.mailing.name,
        "time": date_format(localtime(run.started_at or run.slot), "DATETIME_FORMAT"),
    }


class RunFilterAdapter(BaseFilterAdapter):
    def get_active_filters(self):
        request = self.filter.parent.request
        # One query for the chip, whatever the page holds; only a run the viewer
        # may see is named, any other keeps its number.
        run = (
            MailingRun.objects.for_user(request.user)
            .select_related("mailing")
            .filter(pk=self.value)
            .first()
        )
        yield ActiveFilter(
            self.bound_field.auto_id,
            self.filter.label,
            run_label(run) if run else str(self.value),
            self.get_url_without_filter_param(self.name),
        )


register_filter_adapter_class(RunFilter, RunFilterAdapter, exact_class=True)
