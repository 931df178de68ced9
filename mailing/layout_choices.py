"""What a layout's button may link to: a published page that everyone can open.

The admin's page chooser lists owners no page, but the block's form field takes any
page id it is sent (a crafted POST, the API), and the email would carry a draft's
or a private page's address. The layout form asks here; a page the layout already
linked is kept as it is. (Images need no such check: whoever may write a layout
may choose from the site's image library, as the admin's image chooser shows.)
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.blocks import PageChooserBlock, StructBlock
from wagtail.models import Page

NOT_A_PUBLIC_PAGE = _("Choose a published page that everyone can open.")


def linked_pages(stream_value):
    """The pages picked in the stream's page choosers, in order."""
    for child in stream_value or []:
        yield from _pages_in(child.block, child.value)


def _pages_in(block, value):
    if isinstance(block, PageChooserBlock):
        if value is not None:
            yield value
    elif isinstance(block, StructBlock) and value is not None:
        for name, child_block in block.child_blocks.items():
            yield from _pages_in(child_block, value.get(name))


def check_linked_pages(body, kept_body=None) -> None:
    """Raises ValidationError for a newly linked page that is not live and public."""
    kept = {page.pk for page in linked_pages(kept_body)}
    new = {page.pk for page in linked_pages(body)} - kept
    public = Page.objects.live().public().filter(pk__in=new)
    if new and public.count() != len(new):
        raise ValidationError(NOT_A_PUBLIC_PAGE, code="page")
