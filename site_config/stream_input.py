"""StreamField input that is not in the editor's shape is refused with a 400.

Wagtail's StreamField editor is built by JavaScript, which posts a block count and
each block's type, order and deleted flag; Wagtail reads them as `data[key]` and
`int(...)` without a guard. A form sent before the script ran (a slow page, a
blocked script) or a scripted POST without them was a 500: a page's body, an
email layout and their previews. Refused (site_config.errors) answers a 400 that
says why; nothing is saved, the stored content is what a reload shows.

Every StreamField form reads its data through `BlockWidget.value_from_datadict`;
`check_every_stream_field` wraps that one method (tests/site/test_stream_input.py
fails if Wagtail stops reading it there).
"""

from django.utils.translation import gettext as _
from wagtail.blocks.base import BlockWidget

from .errors import Refused

# What Wagtail's blocks raise on a missing key (MultiValueDictKeyError is a
# KeyError) or a count or order that is not a number.
SHAPE_ERRORS = (KeyError, ValueError, TypeError, IndexError, AttributeError)


def check_every_stream_field() -> None:
    original = BlockWidget.value_from_datadict
    if getattr(original, "refuses_malformed_input", False):
        return

    def value_from_datadict(self, data, files, name):
        try:
            return original(self, data, files, name)
        except SHAPE_ERRORS as error:
            raise Refused(
                _(
                    "The content blocks in this form were not sent in the editor's "
                    "format, so nothing was saved. Reload the page and try again."
                )
            ) from error

    value_from_datadict.refuses_malformed_input = True
    BlockWidget.value_from_datadict = value_from_datadict
