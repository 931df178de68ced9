"""Lists' member counts by status, as stored (mailing.models.ListMemberCount, kept
by the database's triggers) and as recounted from the subscriptions."""

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from .models import ListMemberCount, MailingList, Subscription

STATUSES = Subscription.Status.values


def _empty(ids: Iterable[int]) -> dict[int, dict[str, int]]:
    return {pk: dict.fromkeys(STATUSES, 0) for pk in ids}


def stored_counts(list_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per list id: its members by status, read from the stored counts."""
    counts = _empty(list_ids)
    rows = ListMemberCount.objects.filter(mailing_list_id__in=list(counts))
    for pk, status, members in rows.values_list("mailing_list_id", "status", "members"):
        counts[pk][status] = members
    return counts


def recounted(list_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
    """The same, counted from the subscriptions (what the stored counts must equal)."""
    if list_ids is None:
        list_ids = MailingList.objects.values_list("pk", flat=True)
    counts = _empty(list_ids)
    rows = (
        Subscription.objects.filter(mailing_list_id__in=list(counts))
        .values_list("mailing_list_id", "status")
        .annotate(members=Count("pk"))
    )
    for pk, status, members in rows:
        counts[pk][status] = members
    return counts


def with_stored_counts(lists):
    """The lists queryset with `<status>_count` from the stored counts: one
    indexed lookup per list and status, whatever the lists' sizes."""
    return lists.annotate(
        **{
            f"{status}_count": Coalesce(
                Subquery(
                    ListMemberCount.objects.filter(
                        mailing_list=OuterRef("pk"), status=status
                    ).values("members")[:1]
                ),
                Value(0),
            )
            for status in STATUSES
        }
    )


@transaction.atomic
def rebuild_counts() -> int:
    """Recount every list from its subscriptions; returns how many counts changed.
    Writers of subscriptions wait meanwhile (they would change what is counted)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            table = Subscription._meta.db_table
            cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")  # nosec B608
    actual = recounted()
    stored = stored_counts(actual)
    changed = [
        (pk, status, members)
        for pk, statuses in actual.items()
        for status, members in statuses.items()
        if stored[pk][status] != members
    ]
    for pk, status, members in changed:
        ListMemberCount.objects.update_or_create(
            mailing_list_id=pk, status=status, defaults={"members": members}
        )
    # Rows of lists that are gone (the trigger drops them; a restore may not).
    ListMemberCount.objects.exclude(mailing_list_id__in=list(actual)).delete()
    return len(changed)
