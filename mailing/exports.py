"""Spreadsheet export safety, for every export the admin offers.

A cell that begins with = + - @ (or a tab / CR) is run as a formula by Excel and
LibreOffice; Django's email validator accepts `=1+1@example.com`, so user text can
begin that way. Prefixing an apostrophe makes the cell plain text (OWASP's advice).
XLSX cannot hold most ASCII control characters at all: openpyxl refuses them
(IllegalCharacterError), which failed the whole export for one client's name.

Every CSV and XLSX download of Wagtail's admin (our listings, Wagtail's reports and
site history, form submissions) writes its cells through
`SpreadsheetExportMixin.preprocess_field_value`; `make_every_export_safe` wraps that
one method, so no export can be added without it (tests/security/test_exports.py
fails if Wagtail stops routing cells through it).
"""

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from wagtail.admin.views.mixins import SpreadsheetExportMixin

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Shown where XLSX cannot hold a character: visibly something, never silently nothing.
REPLACEMENT = "\ufffd"


def escape_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_cell(value, export_format: str):
    value = escape_formula(value)
    if export_format == SpreadsheetExportMixin.FORMAT_XLSX and isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)
    return value


def make_every_export_safe() -> None:
    original = SpreadsheetExportMixin.preprocess_field_value
    if getattr(original, "makes_cells_safe", False):
        return

    def preprocess_field_value(self, field, value, export_format):
        return safe_cell(original(self, field, value, export_format), export_format)

    preprocess_field_value.makes_cells_safe = True
    SpreadsheetExportMixin.preprocess_field_value = preprocess_field_value
