"""The API's JSON parser: a body is refused whole, with a 400, where no field of it
could be stored or even encoded.

A lone UTF-16 surrogate ("\\ud800") is valid JSON syntax but not text: PostgreSQL,
SQLite and every UTF-8 encoder refuse it, so each field that took one failed at
its INSERT with a 500. Nesting deeper than Python's recursion limit made the
decoder raise RecursionError, which DRF does not turn into a ParseError. A
number past a double's range (1e309) is read as infinity, which no field takes."""

import math

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

LONE_SURROGATE = gettext_lazy(
    "The JSON contains a lone surrogate (\\ud800-\\udfff): not text."
)
TOO_LARGE = gettext_lazy("The JSON contains a number too large for any field.")


def unreadable_value(data) -> str | None:
    """Why a parsed JSON document holds a value no field can take, or None: a
    string (or key) with a lone surrogate, or a number past a double's range
    (1e309 parses as infinity: an id lookup raised OverflowError, a 500). Walked
    without recursion, as the document may be deep."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return str(LONE_SURROGATE)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return str(TOO_LARGE)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


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
        if reason := unreadable_value(data):
            raise ParseError(reason)
        return data
