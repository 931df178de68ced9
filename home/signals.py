"""Wagtail does not clear Django's cache on publish: these receivers bump the
generations (home.generations) of what a change can show, per page and language
where the signal names the page, everything where it changes the whole site."""

import threading

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from wagtail.models import Locale, Page, PageViewRestriction, Site
from wagtail.signals import (
    page_published,
    page_slug_changed,
    page_unpublished,
    post_page_move,
)

from . import generations, page_store

# The site root (2) and its children (3): every page of the language shows them
# (the menu, the home link), so a change there drops the whole language.
TOP_DEPTH = 3
SITE_ROOT_DEPTH = 2


def all_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def changed_page_generations(page: Page) -> list[str]:
    """What may show `page`: its own addresses and its translations' (their
    switchers link to it: their translations too) and its language's lists, or its
    languages whole for a page at the top of a tree. One query."""
    group = list(page.get_translations(inclusive=True).select_related("locale"))
    languages = {member.locale.language_code for member in group}
    if page.depth <= SITE_ROOT_DEPTH:  # home.sites keeps the root page
        return generations.every_generation(languages)
    if page.depth <= TOP_DEPTH:
        return generations.languages_generations(languages)
    own = next((m for m in group if m.pk == page.pk), page)
    names = [generations.listing_generation(own.locale.language_code)]
    for member in group:
        parts = member.get_url_parts()
        if parts is None:
            continue
        names.append(generations.path_generation(parts[2]))
        if member.pk != page.pk:
            names.append(generations.translations_generation(parts[2]))
    return names + other_languages_lists(page)


def other_languages_lists(page: Page) -> list[str]:
    """The addresses of the list `page` is in, in the other languages: their
    switchers lead to this list's tags and page numbers where it has them (blog's
    BlogIndexPage.query_in), which a publish here adds or takes away. Two queries."""
    names = []
    for member in page.get_parent().get_translations().live():
        parts = member.get_url_parts()
        if parts is not None:
            names.append(generations.path_generation(parts[2]))
            names.append(generations.translations_generation(parts[2]))
    return names


@receiver(page_published)
@receiver(page_unpublished)
def drop_changed_page(sender, instance, **kwargs):
    if being_deleted(instance):  # drop_deleted_page answers for the whole subtree
        return
    generations.bump_now_and_on_commit(changed_page_generations(instance))


@receiver(page_slug_changed)
def drop_languages_of_renamed_page(sender, instance, **kwargs):
    # Its address changed: links to it anywhere in its language and its translations'.
    languages = instance.get_translations(inclusive=True).values_list(
        "locale__language_code", flat=True
    )
    generations.bump_now_and_on_commit(generations.languages_generations(languages))


@receiver(post_page_move)
def drop_everything_on_move(sender, **kwargs):
    generations.bump_now_and_on_commit(generations.every_generation(all_languages()))


# The pages of the delete under way: Wagtail deletes a subtree row by row (a
# pre_delete each, with the same `origin`, and a page_unpublished for each live one),
# and one query on commit does for all.
_deleting = threading.local()


@receiver(pre_delete, sender=Page)
def drop_deleted_page(sender, instance, origin=None, **kwargs):
    # Connected before Wagtail's own pre_delete receiver (home is installed before
    # wagtail), which unpublishes the row: drop_changed_page then knows to skip it.
    if getattr(_deleting, "origin", None) is not origin or origin is None:
        batch = set()
        _deleting.origin, _deleting.batch, _deleting.pks = origin, batch, set()
        transaction.on_commit(lambda: drop_deleted_batch(batch))
    batch = _deleting.batch
    if instance.depth <= SITE_ROOT_DEPTH:  # home.sites keeps the roots' translations
        generations.bump_now_and_on_commit([generations.SITE])
    if instance.locale_id not in {locale_id for _key, locale_id in batch}:
        # Now, for the rows of its own language (no query: the locale is known
        # once per process); its translations' languages follow on commit.
        generations.bump(generations.languages_generations([_language(instance)]))
    batch.add((instance.translation_key, instance.locale_id))
    _deleting.pks.add(instance.pk)


def being_deleted(page: Page) -> bool:
    return page.pk in getattr(_deleting, "pks", ())


def forget_deletes() -> None:
    """For tests: a test's transaction is rolled back, so its delete stays "under
    way" in this thread, and on SQLite the next test's page may get a deleted one's
    id back and lose its invalidation."""
    _deleting.__dict__.clear()


def drop_deleted_batch(batch) -> None:
    """The deleted rows' languages and their surviving translations', in one query."""
    keys = {key for key, _locale_id in batch}
    survivors = Page.objects.filter(translation_key__in=keys).values("locale_id")
    languages = Locale.objects.filter(
        Q(pk__in={locale_id for _key, locale_id in batch}) | Q(pk__in=survivors)
    ).values_list("language_code", flat=True)
    generations.bump(generations.languages_generations(languages))


_locale_codes: dict[int, str] = {}


def _language(page: Page) -> str:
    if page.locale_id not in _locale_codes:
        _locale_codes.update(Locale.objects.values_list("pk", "language_code"))
    return _locale_codes.get(page.locale_id, settings.LANGUAGE_CODE)


@receiver(pre_save, sender=PageViewRestriction)
def refuse_privacy_change_the_cache_cannot_hear(sender, **kwargs):
    # Fail closed: while Redis hangs or is cut off the bump is lost, and once it
    # answers again it still holds the page's public copy (and "no page is
    # private") for up to a minute. Refused before the row is written.
    page_store.bump(generations.every_generation(all_languages()))


@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
def drop_everything_on_privacy_change(sender, **kwargs):
    # A page made private must stop being served from the public cache at once.
    generations.bump_now_and_on_commit(generations.every_generation(all_languages()))


@receiver(post_save, sender=Site)
@receiver(post_delete, sender=Site)
def drop_everything_on_site_change(sender, **kwargs):
    # Hostnames and root pages decide every address (and home.sites keeps them).
    generations.bump_now_and_on_commit(generations.every_generation(all_languages()))
