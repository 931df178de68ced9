"""Wagtail's Draftail widget, refusing malformed editor content with a 400.

The editor always posts its content as Draftail JSON; Wagtail parses it without a
guard, so an empty field (a scripted POST of `html_body=""`) or anything not in that
shape was a 500. Empty means no content, as Draftail's own empty value `null` does;
anything else that is not Draftail JSON, or that holds no text (a lone surrogate),
is refused with a reason and saves nothing.
Used for every rich text field through WAGTAILADMIN_RICH_TEXT_EDITORS.
"""

from django.utils.translation import gettext as _
from wagtail.admin.rich_text import DraftailRichTextArea

from .errors import Refused

# What Wagtail's converter raises on JSON of the wrong shape.
SHAPE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError)


class CheckedDraftailRichTextArea(DraftailRichTextArea):
    def value_from_datadict(self, data, files, name):
        posted = data.get(name)
        if posted is not None and not posted.strip():
            return ""
        try:
            html = super().value_from_datadict(data, files, name)
        except SHAPE_ERRORS as error:
            raise Refused(
                _(
                    "The formatted text in this form was not sent in the editor's "
                    "format, so nothing was saved. Reload the page and try again."
                )
            ) from error
        if isinstance(html, str) and not html.isascii():
            try:
                # JSON may escape a lone surrogate ("\ud800"): no text, and no UTF-8
                # encoder (the sanitiser's, the database's) takes it: it was a 500.
                html.encode("utf-8")
            except UnicodeEncodeError as error:
                raise Refused(
                    _(
                        "The formatted text contains a character that is not text "
                        "(a lone surrogate), so nothing was saved."
                    )
                ) from error
        return html
