"""Field values as the admin shows them: words in the viewer's language.

Wagtail prints a boolean field as Python's "True"/"False" in listings and on
inspect pages, and an empty one as "None": English on Russian pages.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _
from wagtail.admin.ui.tables import Column

EMPTY = "—"


def readable(value):
    """Yes/No for a boolean, a dash for nothing (None or an empty text: a blank
    line under a label reads as a page that failed), anything else unchanged."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return value


def is_boolean_field(model, field_name: str) -> bool:
    try:
        field = model._meta.get_field(field_name)
    except FieldDoesNotExist:
        return False
    return isinstance(field, models.BooleanField)


class YesNoColumn(Column):
    """A boolean field's column: a word, narrow and sortable like the field."""

    def get_value(self, instance):
        return readable(super().get_value(instance))
