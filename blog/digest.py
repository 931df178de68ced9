"""The one function mailing reads blog posts through (its digests)."""

from datetime import datetime

from .models import BlogPage


def posts_published_between(
    after: datetime, until: datetime, language: str | None = None
) -> list[BlogPage]:
    """Public posts first published in (after, until], oldest first.

    First publication, not the latest: a post corrected after it went out in one
    digest does not come back in the next. With `language`, a post and its
    translations count once, in that language where it is among them: a digest
    is written in one language, and Wagtail links a page to its translation in
    the language being rendered, so both copies would lead to the same post.
    """
    posts = list(
        BlogPage.objects.published()
        .filter(first_published_at__gt=after, first_published_at__lte=until)
        .select_related("main_image", "locale")
        .order_by("first_published_at", "pk")
    )
    if language is None:
        return posts
    chosen: dict = {}
    for post in posts:
        kept = chosen.get(post.translation_key)
        if kept is None or (_in(post, language) and not _in(kept, language)):
            chosen[post.translation_key] = post
    kept_ids = {post.pk for post in chosen.values()}
    return [post for post in posts if post.pk in kept_ids]


def _in(post: BlogPage, language: str) -> bool:
    return post.locale.language_code == language
