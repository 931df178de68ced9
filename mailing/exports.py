"""Spreadsheet export safety.

A cell that begins with = + - @ (or a tab / CR) is run as a formula by Excel and
LibreOffice; Django's email validator accepts `=1+1@example.com`, so user text can
begin that way. Prefixing an apostrophe makes the cell plain text (OWASP's advice).
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class FormulaSafeExportMixin:
    """For a Wagtail IndexView with SpreadsheetExportMixin: escape every cell."""

    def preprocess_field_value(self, field, value, export_format):
        return escape_formula(
            super().preprocess_field_value(field, value, export_format)
        )
