"""Wagtail does not clear Django's cache on publish: these receivers do."""

from django.db.models.signals import post_delete
from django.dispatch import receiver
from wagtail.models import Page
from wagtail.signals import page_published, page_unpublished, post_page_move

from .page_cache import invalidate_pages


@receiver(page_published)
@receiver(page_unpublished)
@receiver(post_page_move)
def drop_cached_pages(sender, **kwargs):
    # Any post may be on the home page and the index: drop them all, not one path.
    invalidate_pages()


@receiver(post_delete)
def drop_cached_pages_on_delete(sender, instance, **kwargs):
    if isinstance(instance, Page):
        invalidate_pages()
