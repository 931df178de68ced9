"""A subscribe page shows its list's form settings, which are no part of the page:
Wagtail's publish signals never see them change. So a change of the form (enabled,
title, texts) or its removal drops the cached copies of the pages that show it,
through the page generations (home.generations), instead of leaving the old form
up for the page cache's minute."""

from home import generations

from .models import SubscribeForm, SubscribePage


def pages_showing(list_id: int) -> list[str]:
    """The page generations of every live subscribe page of the list."""
    names = []
    for page in SubscribePage.objects.live().filter(mailing_list_id=list_id):
        parts = page.get_url_parts()
        if parts is not None:
            names.append(generations.path_generation(parts[2]))
    return names


def drop_pages_of_form(sender, instance: SubscribeForm, **kwargs) -> None:
    if names := pages_showing(instance.mailing_list_id):
        generations.bump_now_and_on_commit(names)
