"""Keyset pagination: a page of attempts costs the same at row 1 and at row 1M, and
no listing counts its table."""

import re

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

# The position a cursor carries is the last id seen (ordering "-id").
POSITION = re.compile(r"-?[0-9]{1,19}")


class KeysetPagination(CursorPagination):
    ordering = "-id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
    invalid_cursor_message = _(
        "The cursor is not valid: follow the next and previous links of a page."
    )

    def decode_cursor(self, request):
        # A cursor is the client's input, so a bad one is a 400 naming the
        # parameter (DRF answers 404, as if the listing were gone, and its Russian
        # catalogue misspells the message).
        try:
            cursor = super().decode_cursor(request)
        except NotFound as error:
            raise self._invalid() from error
        # DRF takes the position as any text and filters the ids by it: a word or
        # a fraction raised ValueError there (a 500), a NUL reached PostgreSQL.
        if cursor is not None and cursor.position is not None:
            if not POSITION.fullmatch(cursor.position):
                raise self._invalid()
        return cursor

    def _invalid(self) -> ValidationError:
        return ValidationError(
            {self.cursor_query_param: [self.invalid_cursor_message]}, "invalid"
        )
