"""A list's members as a spreadsheet (issue 12): address, name, subscription status
and its time, and whether the address is suppressed and why.

Read in chunks from the database and written as they come: CSV streams to the
response, XLSX goes through openpyxl's write-only workbook (rows to a temporary
file, never a million cells in memory). Every cell passes mailing.exports'
formula-injection guard. (A segment's export is to come: the same writer over the
segment's clients.)
"""

import csv
import io
import tempfile
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from wagtail.admin.views.mixins import SpreadsheetExportMixin

from .exports import safe_cell
from .models import MailingList, Subscription

CSV, XLSX = SpreadsheetExportMixin.FORMAT_CSV, SpreadsheetExportMixin.FORMAT_XLSX
READ_CHUNK = 2000


def header() -> list[str]:
    return [
        _("Email"),
        _("Full name"),
        _("Subscription status"),
        _("Status changed at"),
        _("Suppressed"),
        _("Suppressed because"),
    ]


def member_rows(mailing_list: MailingList) -> Iterator[list]:
    statuses = dict(Subscription.Status.choices)
    rows = (
        Subscription.objects.filter(mailing_list=mailing_list)
        .order_by("client_id")
        .values_list(
            "client__email",
            "client__full_name",
            "status",
            "changed_at",
            "client__unsubscribed_at",
            "client__suppressed_reason",
        )
    )
    for email, name, status, changed, unsubscribed, reason in rows.iterator(
        chunk_size=READ_CHUNK
    ):
        why = reason or (_("Unsubscribed from all mailings") if unsubscribed else "")
        yield [
            email,
            name,
            str(statuses[status]),
            timezone.localtime(changed).strftime("%Y-%m-%d %H:%M"),
            _("yes") if why else _("no"),
            why,
        ]


def csv_lines(mailing_list: MailingList) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = member_rows(mailing_list)
    for row in _with_header(rows):
        writer.writerow([safe_cell(cell, CSV) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def xlsx_file(mailing_list: MailingList):
    """The workbook in a temporary file (deleted when closed), at its start."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Members")[:31])
    for row in _with_header(member_rows(mailing_list)):
        sheet.append([safe_cell(cell, XLSX) for cell in row])
    target = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    book.save(target)
    target.seek(0)
    return target


def _with_header(rows: Iterator[list]) -> Iterator[list]:
    yield header()
    yield from rows
