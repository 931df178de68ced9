"""Every CSV and XLSX download escapes formulas and survives control characters:
the cell rules, and the adapter that applies them to every export of the admin.
(The findings of issue 11 that led here: test_tenant_leaks, test_malformed_admin_input.)
"""

from __future__ import annotations

import pytest
from wagtail.admin.views.mixins import SpreadsheetExportMixin

from mailing.exports import REPLACEMENT, escape_formula, safe_cell

pytestmark = pytest.mark.django_db

TRIGGERS = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("value", TRIGGERS)
def test_every_formula_trigger_is_escaped(value):
    assert escape_formula(value) == "'" + value
    assert safe_cell(value, "csv") == "'" + value


def test_plain_text_and_numbers_are_left_alone():
    assert safe_cell("Anna =1", "csv") == "Anna =1"
    assert safe_cell(-5, "xlsx") == -5


def test_control_characters_become_visible_in_xlsx_only():
    assert safe_cell("a\x0bb\x00c", "xlsx") == f"a{REPLACEMENT}b{REPLACEMENT}c"
    assert safe_cell("a\x0bb", "csv") == "a\x0bb"


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def test_no_export_view_writes_cells_around_the_safe_preprocessor():
    """The adapter wraps one method of Wagtail's mixin; a view that writes rows its
    own way (or Wagtail moving the call) would bypass it."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every admin view
    assert SpreadsheetExportMixin.preprocess_field_value.makes_cells_safe
    bypassing = [
        view.__qualname__
        for view in all_subclasses(SpreadsheetExportMixin)
        for name in ("preprocess_field_value", "write_csv_row", "generate_xlsx_row")
        if name in vars(view)
    ]
    assert bypassing == []
