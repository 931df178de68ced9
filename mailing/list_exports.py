"""A list's or a segment's members as a spreadsheet (issue 12): address, name,
subscription status (a list's, or for a segment each of the client's lists with
its status) and whether the address is suppressed and why.

Read in chunks from the database and written as they come: CSV streams to the
response, XLSX goes through openpyxl's write-only workbook (rows to a temporary
file, never a million cells in memory). Every cell passes mailing.exports'
formula-injection guard.
"""

import csv
import io
import tempfile
from collections.abc import Iterator

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from wagtail.admin.views.mixins import SpreadsheetExportMixin

from .exports import safe_cell
from .models import MailingList, Segment, Subscription
from .segments import segment_clients

CSV, XLSX = SpreadsheetExportMixin.FORMAT_CSV, SpreadsheetExportMixin.FORMAT_XLSX
READ_CHUNK = 2000


def header() -> list[str]:
    return [
        _("Email"),
        _("Full name"),
        _("Subscription status"),
        _("Status changed at"),
        *suppression_header(),
    ]


def suppression_header() -> list[str]:
    return [_("Suppressed"), _("Suppressed because")]


def suppression_cells(unsubscribed, reason: str) -> list[str]:
    why = reason or (_("Unsubscribed from all mailings") if unsubscribed else "")
    return [_("yes") if why else _("no"), why]


def list_rows(mailing_list: MailingList) -> Iterator[list]:
    """The header, then one row per member of the list."""
    yield header()
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
        yield [
            email,
            name,
            str(statuses[status]),
            timezone.localtime(changed).strftime("%Y-%m-%d %H:%M"),
            *suppression_cells(unsubscribed, reason),
        ]


def segment_rows(segment: Segment) -> Iterator[list]:
    """The header, then one row per client the segment matches now, with each of
    their lists and its status."""
    yield [_("Email"), _("Full name"), _("Lists"), *suppression_header()]
    statuses = dict(Subscription.Status.choices)
    lists = Prefetch(
        "subscriptions",
        queryset=Subscription.objects.select_related("mailing_list").order_by(
            "mailing_list__name"
        ),
    )
    clients = segment_clients(segment).order_by("pk").prefetch_related(lists)
    for client in clients.iterator(chunk_size=READ_CHUNK):
        memberships = "; ".join(
            f"{item.mailing_list.name}: {statuses[item.status]}"
            for item in client.subscriptions.all()
        )
        yield [
            client.email,
            client.full_name,
            memberships,
            *suppression_cells(client.unsubscribed_at, client.suppressed_reason),
        ]


def csv_lines(rows: Iterator[list]) -> Iterator[str]:
    # The BOM: without it Excel reads UTF-8 as Windows-1251 and the Russian
    # names come out garbled; our import reads it either way.
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(cell, CSV) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def xlsx_file(rows: Iterator[list]):
    """The workbook in a temporary file (deleted when closed), at its start."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Members")[:31])
    for row in rows:
        sheet.append([safe_cell(cell, XLSX) for cell in row])
    target = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    book.save(target)
    target.seek(0)
    return target
