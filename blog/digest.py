"""The one function mailing reads blog posts through (its digests)."""

from datetime import datetime

from .models import BlogPage


def posts_published_between(after: datetime, until: datetime) -> list[BlogPage]:
    """Public posts first published in (after, until], oldest first.

    First publication, not the latest: a post corrected after it went out in one
    digest does not come back in the next.
    """
    return list(
        BlogPage.objects.published()
        .filter(first_published_at__gt=after, first_published_at__lte=until)
        .select_related("main_image")
        .order_by("first_published_at", "pk")
    )
