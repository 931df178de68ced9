"""Keyset pagination for listings ordered newest first (attempted_at DESC, id DESC).

Django's Paginator counts every matching row and skips to its page with OFFSET:
at millions of attempts both read the table. A keyset page starts where the
previous one ended: ?after=<attempted_at>_<id> (older rows) or ?before= (newer
rows), one index range of page size + 1 rows whatever the depth. The price: no
page numbers and no total, only "newer" and "older".

Rows not attempted yet (attempted_at NULL) come first, newest first, as PostgreSQL
sorts NULL above everything in DESC order. They are read apart, by id: the time
indexes hold only rows tried (an outbox row written or claimed then skips them),
so each part of a page is one range of its own index (mailing.models.runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import BigIntegerField, ExpressionWrapper, F, Q, QuerySet

NULL = "null"


@dataclass(frozen=True)
class Key:
    at: datetime | None
    pk: int

    def __str__(self) -> str:
        return f"{self.at.isoformat() if self.at else NULL}_{self.pk}"

    @classmethod
    def parse(cls, text: str | None) -> Key | None:
        """The key of a cursor, None if absent or malformed (then: the first page)."""
        at, _, pk = (text or "").rpartition("_")
        try:
            return cls(None if at == NULL else datetime.fromisoformat(at), int(pk))
        except ValueError:
            return None


UNTRIED = Q(attempted_at__isnull=True)
NEWEST_FIRST = ("-attempted_at", "-id")
OLDEST_FIRST = ("attempted_at", "id")
# The untried rows by an expression of the id, not the id: ordered by the id
# itself, the planner may walk the primary key backwards, filtering, and at a
# filter that matches nothing untried (a run all sent) that walk is the whole
# table; so it reads the untried rows of the mailings asked (attempt_unsent) or
# of the status (attempt_status_recent) and sorts those few.
UNTRIED_ID = ExpressionWrapper(F("id") + 0, output_field=BigIntegerField())
UNTRIED_NEWEST = (UNTRIED_ID.desc(),)
UNTRIED_OLDEST = (UNTRIED_ID.asc(),)


def tried_before(key: Key) -> Q:
    """Tried rows after `key` in the listing's order; the plain bound
    (attempted_at <= key) lets the index range start at the key."""
    return Q(attempted_at__lte=key.at) & (
        Q(attempted_at__lt=key.at) | Q(attempted_at=key.at, id__lt=key.pk)
    )


def tried_after(key: Key) -> Q:
    return Q(attempted_at__gte=key.at) & (
        Q(attempted_at__gt=key.at) | Q(attempted_at=key.at, id__gt=key.pk)
    )


@dataclass
class KeysetPage:
    """One page; quacks like django.core.paginator.Page where Wagtail looks."""

    object_list: list
    has_older: bool
    has_newer: bool
    paginator: KeysetPaginator = field(repr=False)
    number: int = 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def has_next(self) -> bool:
        return self.has_older

    def has_previous(self) -> bool:
        return self.has_newer

    def has_other_pages(self) -> bool:
        return self.has_older or self.has_newer

    @property
    def older_cursor(self) -> str:
        return str(key_of(self.object_list[-1])) if self.has_older else ""

    @property
    def newer_cursor(self) -> str:
        return str(key_of(self.object_list[0])) if self.has_newer else ""


def key_of(row) -> Key:
    return Key(row.attempted_at, row.pk)


class KeysetPaginator:
    """Stands where Wagtail expects a paginator; counts nothing.

    `scope`, the rows the listing may show before its filters (default: the
    queryset), loads a page's rows by id and tells whether any row is untried:
    the filters are then planned once a page, not three times. A search's
    thousands of client ids (11,111 for "reader4" at ten million attempts) took
    longer to plan each time than the page took to read."""

    count = None
    num_pages = None

    def __init__(self, queryset: QuerySet, per_page: int, scope: QuerySet = None):
        self.queryset = queryset
        self.per_page = per_page
        self.scope = self.queryset if scope is None else scope

    def get_elided_page_range(self, *args):
        return []

    def page(self, after: Key | None, before: Key | None) -> KeysetPage:
        if before is not None:
            # Walk the indexes the other way from the key, then show newest first.
            keys = self._newer(before)
            more = len(keys) > self.per_page
            return KeysetPage(self._rows(keys[: self.per_page][::-1]), True, more, self)
        keys = self._older(after)
        more = len(keys) > self.per_page
        return KeysetPage(
            self._rows(keys[: self.per_page]), more, after is not None, self
        )

    def _older(self, after: Key | None) -> list[int]:
        """Ids of up to a page + 1 rows after `after` (from the top when None):
        untried rows first, by id, then tried rows by time."""
        keys = []
        if after is None or after.at is None:
            untried = UNTRIED & Q(id__lt=after.pk) if after else UNTRIED
            if self.scope.filter(untried).exists():
                keys = self._keys(untried, UNTRIED_NEWEST, self.per_page + 1)
            tried = Q(attempted_at__isnull=False)
        else:
            tried = tried_before(after)
        wanted = self.per_page + 1 - len(keys)
        return keys + (self._keys(tried, NEWEST_FIRST, wanted) if wanted else [])

    def _newer(self, before: Key) -> list[int]:
        """Ids of up to a page + 1 rows before `before`, nearest first."""
        if before.at is None:
            newer = UNTRIED & Q(id__gt=before.pk)
            return self._keys(newer, UNTRIED_OLDEST, self.per_page + 1)
        keys = self._keys(tried_after(before), OLDEST_FIRST, self.per_page + 1)
        wanted = self.per_page + 1 - len(keys)
        return keys + (self._keys(UNTRIED, UNTRIED_OLDEST, wanted) if wanted else [])

    def _keys(self, bound: Q, order: tuple, limit: int) -> list[int]:
        """The page's ids, from the attempts table alone: joined to the related
        tables, the planner misjudged a small owner's rows as spread over the
        whole time index and walked it (0.6 s at a million attempts)."""
        keyed = self.queryset.filter(bound).order_by(*order)
        return list(keyed.values_list("pk", flat=True)[:limit])

    def _rows(self, ids: list[int]) -> list:
        found = self.scope.order_by().in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


def every_row(queryset: QuerySet, chunk: int = 2000):
    """Every row newest first, a page at a time (an export): memory holds one
    page whatever the count, and each page is one index range, as the listing's."""
    paginator, after = KeysetPaginator(queryset, chunk), None
    while True:
        page = paginator.page(after, None)
        yield from page.object_list
        if not page.has_older:
            return
        after = key_of(page.object_list[-1])
