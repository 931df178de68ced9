"""The API's JSON parser: a body is refused whole, with a 400, where no field of it
could be stored or even encoded.

A lone UTF-16 surrogate ("\\ud800") is valid JSON syntax but not text: PostgreSQL,
SQLite and every UTF-8 encoder refuse it, so each field that took one failed at
its INSERT with a 500. Nesting deeper than Python's recursion limit made the
decoder raise RecursionError, which DRF does not turn into a ParseError."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def has_lone_surrogate(data) -> bool:
    """Whether any string (or key) of a parsed JSON document holds a lone
    surrogate; walked without recursion, as the document may be deep."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class TextJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None
        except ParseError as error:
            # DRF's message is English whatever the request's language; the
            # decoder's own reason (where in the body) is kept after ours.
            reason = error.__context__ or error.detail
            raise ParseError(
                _("The body is not valid JSON: %(reason)s") % {"reason": reason}
            ) from None
        if has_lone_surrogate(data):
            raise ParseError(
                _("The JSON contains a lone surrogate (\\ud800-\\udfff): not text.")
            )
        return data
