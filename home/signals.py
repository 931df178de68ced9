"""Wagtail does not clear Django's cache on publish: these receivers do, for the
languages that can show the page (home.page_cache: a generation per language)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from .page_cache import invalidate_pages, invalidate_pages_or_raise


def drop_now_and_on_commit(languages=None) -> None:
    # Now, and again once the change is visible to other connections: a render that
    # read the old rows between the two would otherwise be stored as current.
    invalidate_pages(languages)
    transaction.on_commit(lambda: invalidate_pages(languages))


def languages_showing(page: Page):
    """The languages whose cached pages may show `page`, or None for all of them.

    Its own language's tree (any post may be on its home page and index); every
    language when it has translations (their switchers link to it) or is a site
    root (home.sites keeps the root page).
    """
    if page.depth <= 2 or page.get_translations().exists():
        return None
    return [page.locale.language_code]


@receiver(page_published)
@receiver(page_unpublished)
def drop_cached_pages(sender, instance, **kwargs):
    drop_now_and_on_commit(languages_showing(instance))


@receiver(post_page_move)
def drop_cached_pages_on_move(sender, **kwargs):
    drop_now_and_on_commit()


@receiver(post_delete)
def drop_cached_pages_on_delete(sender, instance, **kwargs):
    if isinstance(instance, Page):
        drop_now_and_on_commit(languages_showing(instance))


@receiver(pre_save, sender=PageViewRestriction)
def refuse_privacy_change_the_cache_cannot_hear(sender, **kwargs):
    # Fail closed: while Redis hangs or is cut off the bump is lost, and once it
    # answers again it still holds the page's public copy (and "no page is
    # private") for up to a minute. Refused before the row is written.
    invalidate_pages_or_raise()


@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
def drop_cached_pages_on_privacy_change(sender, **kwargs):
    # A page made private must stop being served from the public cache at once.
    drop_now_and_on_commit()


@receiver(post_save, sender=Site)
@receiver(post_delete, sender=Site)
def drop_cached_pages_on_site_change(sender, **kwargs):
    # Hostnames and root pages decide every address (and home.sites caches them).
    drop_now_and_on_commit()
