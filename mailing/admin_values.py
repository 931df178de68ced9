"""Field values as the admin shows them: words in the viewer's language.

Wagtail prints a boolean field as Python's "True"/"False" in listings and on
inspect pages, and an empty one as "None": English on Russian pages.
"""

from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.html import format_html
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


def exported(model, name: str, value, zone):
    """A cell of a listing's CSV or XLSX download as the listing shows it: a
    choice's label, Yes or No, a time in the viewer's zone (to the second, with
    no offset: XLSX holds none). Wagtail wrote the stored value: "delivered",
    "weekly", "True" and UTC times with microseconds on Russian downloads."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        local = timezone.localtime(value, zone) if timezone.is_aware(value) else value
        return local.replace(tzinfo=None, microsecond=0)
    choices = _choices(model, name)
    if not choices or isinstance(value, list | dict):
        return value
    label = dict(choices).get(value)
    return value if label is None else force_str(label)


def _choices(model, name: str):
    try:
        return model._meta.get_field(name).flatchoices
    except FieldDoesNotExist:
        return ()


class YesNoColumn(Column):
    """A boolean field's column: a word, narrow and sortable like the field."""

    def get_value(self, instance):
        return readable(super().get_value(instance))


class AddressColumn(Column):
    """An owner's address, which may break after its @ and nowhere else (with
    static/css/admin.css): at 1280 px it broke into three lines mid-word."""

    def get_value(self, instance):
        value = super().get_value(instance)
        local, at, domain = str(value).rpartition("@")
        return format_html("{}@<wbr>{}", local, domain) if at else value

    @classmethod
    def replacing(cls, column: Column) -> "AddressColumn":
        return cls(
            column.name,
            label=column.label,
            accessor=column.accessor,
            sort_key=column.sort_key,
            classname="owner",
        )
