"""Client imports with files people really have: repeated addresses listed by line,
old Office files and Word documents named for what they are, a UTF-16 text saved
under an .xlsx name, and a list exported then imported again unchanged."""

import csv
import io
import struct
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from mailing import audiences, import_jobs, import_repeats, list_exports
from mailing.import_jobs import run_import, start_import
from mailing.import_kinds import OLE_MAGIC
from mailing.imports import ImportFileError, read_sample, stash_path
from mailing.models import Client, ImportJob, MailingList
from tests.factories import import_file, make_client, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return make_user("mailing_user")


@pytest.fixture(autouse=True)
def stash_dir(settings, tmp_path):
    settings.CLIENT_IMPORT_DIR = str(tmp_path / "stash")
    return tmp_path


def preview(client, owner, name: str, data: bytes):
    """Upload `data` as `name` and open its preview: the page's context."""
    client.force_login(owner)
    url = reverse("mailing_client:import")
    uploaded = client.post(url, {"file": SimpleUploadedFile(name, data)})
    assert uploaded.status_code == 302
    return client.get(uploaded["Location"]).context


def ole_file(*streams: str) -> bytes:
    """A Compound File (what Office 97-2003 writes) holding these streams: the
    header and one directory sector, as far as anyone reads to tell its kind."""
    header = bytearray(512)
    header[:8] = OLE_MAGIC
    struct.pack_into("<H", header, 30, 9)  # 512-byte sectors
    struct.pack_into("<I", header, 48, 0)  # the directory starts at sector 0
    directory = bytearray(512)
    for index, name in enumerate(["Root Entry", *streams]):
        encoded = (name + "\0").encode("utf-16-le")
        directory[index * 128 : index * 128 + len(encoded)] = encoded
        struct.pack_into("<H", directory, index * 128 + 64, len(encoded))
    return bytes(header + directory)


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# --- Repeated addresses --------------------------------------------------------

REPEATING = (
    "email,имя\n"
    "anna@example.org,Анна\n"  # 2
    "boris@example.org,Борис\n"  # 3
    "ANNA@example.org,Анна снова\n"  # 4: repeats line 2
    "broken,Плохой\n"  # 5
    "boris@example.org,Борис снова\n"  # 6: repeats line 3
).encode()


def test_repeated_rows_are_listed_in_the_preview_with_the_line_they_repeat(
    client, owner
):
    context = preview(client, owner, "clients.csv", REPEATING)

    problems = dict(context["sample"].problems)
    assert set(problems) == {4, 5, 6}
    assert "ANNA@example.org" in problems[4] and "строке 2" in problems[4]
    assert "строке 3" in problems[6]


def test_repeated_rows_are_counted_and_listed_by_the_job(client, owner, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(REPEATING)
    job = import_file(owner, path)

    assert (job.created, job.repeated, job.rejected, job.skipped) == (2, 2, 1, 0)
    client.force_login(owner)
    page = client.get(reverse("mailing_client:import_job", args=[job.pk]))
    assert page.context["progress"]["repeated_lines"] == "строки 4, 6"
    assert "строки 4, 6" in page.content.decode()
    report = client.get(reverse("mailing_client:import_rejected", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert [row[0] for row in rows[1:]] == ["4", "5", "6"]
    assert "строке 2" in rows[1][1] and "Неверный" in rows[2][1]
    assert Client.objects.get(owner=owner, email="anna@example.org").full_name == (
        "Анна"
    )  # the first row wins


def test_a_file_of_many_repeats_lists_the_first_and_counts_them_all(
    client, owner, monkeypatch, tmp_path
):
    monkeypatch.setattr(import_jobs, "MAX_LISTED", 3)
    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 4)
    path = tmp_path / "clients.csv"
    path.write_text("same@example.org,Один\n" * 10, encoding="utf-8")
    job = import_file(owner, path)

    assert (job.created, job.repeated) == (1, 9)
    assert job.rejections.count() == 3
    client.force_login(owner)
    report = client.get(reverse("mailing_client:import_rejected", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert [row[0] for row in rows[1:4]] == ["2", "3", "4"]
    assert rows[-1][0] == "" and "6" in rows[-1][1]  # 6 more, not listed


def test_a_resumed_job_still_knows_the_addresses_of_the_chunks_before(
    owner, monkeypatch
):
    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 2)
    content = b"a@example.org,A\nb@example.org,B\nc@example.org,C\nA@example.org,A2\n"
    token = "b" * 32
    stash_path(token).parent.mkdir(parents=True, exist_ok=True)
    stash_path(token).write_bytes(content)
    job = start_import(owner, token, file_name="c.csv")
    # As a consumer that committed the first chunk and died leaves it.
    make_client(owner, email="a@example.org", full_name="A")
    make_client(owner, email="b@example.org", full_name="B")
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", total_rows=4, rows_done=2, created=2
    )

    job = run_import(job.pk)

    assert (job.status, job.created, job.repeated) == ("done", 3, 1)
    assert list(job.rejections.values_list("line", "first_line")) == [(4, 1)]


def test_seen_addresses_tell_each_chunks_first_line():
    seen = import_repeats.SeenAddresses()
    seen.add_chunk({"a@example.org": 1, "b@example.org": 2})
    seen.add_chunk({"c@example.org": 7})

    assert [seen.first_line(k) for k in ("b@example.org", "c@example.org")] == [2, 7]
    assert seen.first_line("d@example.org") is None


# --- Files that are not tables -------------------------------------------------


@pytest.mark.parametrize(
    "streams, words",
    [
        (("Workbook", "\x05SummaryInformation"), ["Excel 97–2003", ".xlsx"]),
        (("Book",), ["Excel 97–2003"]),
        (("WordDocument", "1Table"), ["Word", ".xlsx"]),
        (("EncryptionInfo", "EncryptedPackage"), ["паролем"]),
        (("PowerPoint Document",), ["Microsoft Office", ".xlsx"]),
    ],
)
def test_old_office_files_are_named_and_told_how_to_save(
    client, owner, streams, words, tmp_path
):
    data = ole_file(*streams)
    context = preview(client, owner, "clients.xls", data)

    assert all(word in context["file_error"] for word in words), context["file_error"]
    assert "кодиров" not in context["file_error"]
    path = tmp_path / "clients.xls"
    path.write_bytes(data)
    assert import_file(owner, path).error == context["file_error"]


def test_a_damaged_ole_header_still_says_it_is_an_office_file(tmp_path):
    path = tmp_path / "short.xls"
    path.write_bytes(OLE_MAGIC + b"\x00" * 40)
    with pytest.raises(ImportFileError, match="Microsoft Office"):
        read_sample(path)


def test_a_word_document_named_xlsx_is_called_a_word_document(client, owner):
    docx = zipped({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"})

    context = preview(client, owner, "clients.xlsx", docx)

    assert "документ Word" in context["file_error"]


def test_an_opendocument_spreadsheet_is_told_to_be_saved_as_xlsx(client, owner):
    ods = zipped(
        {
            "mimetype": "application/vnd.oasis.opendocument.spreadsheet",
            "content.xml": "<office:document-content/>",
        }
    )

    context = preview(client, owner, "clients.ods", ods)

    assert ".ods" in context["file_error"] and ".xlsx" in context["file_error"]


UNICODE_TEXT = "email\tимя\r\nanna@example.org\tАнна Кошкина\r\n".encode("utf-16")


def test_a_utf16_text_named_xlsx_is_read_as_csv_and_said_to_be_text(client, owner):
    context = preview(client, owner, "clients.xlsx", UNICODE_TEXT)

    assert context["file_error"] is None
    assert "UTF-16" in context["file_notice"] and "CSV" in context["file_notice"]
    assert context["sample"].rows == [(2, ["anna@example.org", "Анна Кошкина"])]


def test_a_utf16_text_with_no_addresses_named_xlsx_is_no_table(client, owner):
    letter = "Уважаемые коллеги,\r\nсписок пришлю позже.\r\n".encode("utf-16")

    context = preview(client, owner, "clients.xlsx", letter)

    assert "UTF-16" in context["file_error"] and "sample" not in context


def test_a_utf16_csv_under_its_own_name_gets_no_notice(client, owner):
    context = preview(client, owner, "clients.csv", UNICODE_TEXT)

    assert context["file_notice"] is None and context["sample"].rows


def test_the_import_page_refuses_others_their_uploads(client, owner, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(REPEATING)
    job = import_file(owner, path)
    client.force_login(make_user("mailing_user"))

    for name in ("import_job", "import_status", "import_rejected"):
        url = reverse(f"mailing_client:{name}", args=[job.pk])
        assert client.get(url).status_code == 404


# --- Exported, then imported again ---------------------------------------------

NAMES = {
    "anna@example.org": "Анна Кошкина",
    "ivan@example.org": '-Иван "Ваня" Щукин',
    "=1+1@example.org": "=HYPERLINK(1)",
    "yo@example.org": "+Ёжиков, Пётр; «Лев»",
    "at@example.org": "@Эйхвальд",
}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_list_exported_and_imported_again_keeps_every_name(kind, tmp_path):
    owner = make_user()
    news = MailingList.objects.create(owner=owner, name="Новости")
    for email, name in NAMES.items():
        make_client(owner, email=email, full_name=name)
    audiences.subscribe(Client.objects.filter(owner=owner), news)
    path = tmp_path / f"members.{kind}"
    rows = list_exports.list_rows(news)
    if kind == "csv":
        path.write_text("".join(list_exports.csv_lines(rows)), encoding="utf-8")
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8
    else:
        path.write_bytes(list_exports.xlsx_file(rows).read())

    other = make_user()
    job = import_file(other, path)

    assert (job.created, job.rejected) == (len(NAMES), 0)
    read = dict(Client.objects.filter(owner=other).values_list("email", "full_name"))
    assert read == NAMES


def test_an_apostrophe_before_other_text_is_kept(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("email,name\nd@example.org,'Tis O'Neil\n", encoding="utf-8")
    owner = make_user()
    import_file(owner, path)
    assert Client.objects.get(owner=owner).full_name == "'Tis O'Neil"


def test_an_xlsx_built_in_code_reads_like_excels(tmp_path):
    book = Workbook()
    book.active.append(["email", "имя"])
    book.active.append(["'-x@example.org", "'=Имя"])
    path = tmp_path / "c.xlsx"
    book.save(path)
    owner = make_user()
    import_file(owner, path)
    assert Client.objects.get(owner=owner).full_name == "=Имя"


# --- Files as spreadsheets write them ------------------------------------------


def test_an_xlsx_with_a_merged_title_over_its_header_reads_the_header(
    client, owner, tmp_path
):
    book = Workbook()
    sheet = book.active
    sheet.append(["Клиенты магазина", None, None])
    sheet.merge_cells("A1:C1")
    sheet.append(["Комментарий", "ФИО", "Email"])
    sheet.append(["постоянный", "Анна", "anna@example.org"])
    path = tmp_path / "merged.xlsx"
    book.save(path)

    context = preview(client, owner, "merged.xlsx", path.read_bytes())
    job = import_file(owner, path)

    assert context["sample"].mapping == {"comment": 0, "full_name": 1, "email": 2}
    assert context["sample"].problems == []
    assert (job.created, job.rejected) == (1, 0)
    assert Client.objects.get(owner=owner).comment == "постоянный"


def test_a_title_over_only_a_header_is_a_header_only_file(owner, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Выгрузка;;\nemail;имя;\n;;\n", encoding="cp1251")
    job = import_file(owner, path)
    assert job.status == "failed" and "заголовков" in job.error


def test_a_row_with_an_address_above_the_header_words_keeps_the_positions(
    owner, tmp_path
):
    path = tmp_path / "c.csv"
    path.write_text("a@example.org,Анна\nemail,name\n", encoding="utf-8")
    job = import_file(owner, path)
    assert (job.created, job.rejected) == (1, 1)  # "email" is no address


def test_excel_dates_fill_a_date_field_and_numbers_are_said_to_be_no_address(
    owner, tmp_path
):
    from datetime import datetime

    from mailing.models import ClientField

    ClientField.objects.create(owner=owner, key="born", label="Дата", kind="date")
    book = Workbook()
    book.active.append(["email", "имя", "born"])
    book.active.append(["anna@example.org", "Анна", datetime(1990, 3, 8)])
    book.active.append([79161234567, "Телефон вместо адреса", None])
    book.active.append([None, "Без адреса", datetime(2001, 1, 1, 12, 30)])
    path = tmp_path / "c.xlsx"
    book.save(path)

    job = import_file(owner, path)

    assert Client.objects.get(owner=owner).attributes == {"born": "1990-03-08"}
    reasons = dict(job.rejections.values_list("line", "reason"))
    assert "79161234567" in reasons[3]
    assert reasons[4] == "В этой строке нет адреса почты."


def test_a_google_sheets_csv_with_quotes_and_line_breaks_in_names(owner, tmp_path):
    path = tmp_path / "Clients - Sheet1.csv"
    path.write_bytes(
        b"Email,Name,Notes\r\n"
        b'anna@example.org,"Anna ""Annie"" Koshkina","first line\nsecond line"\r\n'
        b'boris@example.org,"Boris, Jr.",\r\n'
        b",,\r\n,,\r\n"
    )
    job = import_file(owner, path)

    assert (job.created, job.rejected, job.repeated) == (2, 0, 0)
    names = dict(Client.objects.filter(owner=owner).values_list("email", "full_name"))
    assert names == {
        "anna@example.org": 'Anna "Annie" Koshkina',
        "boris@example.org": "Boris, Jr.",
    }


def test_a_russian_excel_csv_with_empty_trailing_columns_and_rows(owner, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(
        "Email;ФИО;Комментарий;;;\r\n"
        "anna@example.org;Кошкина Анна;VIP;;;\r\n"
        ";;;;;\r\n"
        "petr@example.org;Пётр;;;;\r\n"
        ";;;;;\r\n;;;;;\r\n".encode("cp1251")
    )
    job = import_file(owner, path)
    assert (job.created, job.rejected) == (2, 0)


def formula_book(tmp_path, cached: str | None):
    """A workbook whose C2 is =LOWER(B2), with its result saved (as Excel and
    LibreOffice do) or not (as openpyxl and many web exports do)."""
    book = Workbook()
    book.active.append(["ФИО", "Как прислали", "email"])
    book.active.append(["Анна", "ANNA@EXAMPLE.ORG", "=LOWER(B2)"])
    path = tmp_path / "formulas.xlsx"
    book.save(path)
    if cached is not None:
        with zipfile.ZipFile(path) as archive:
            parts = {name: archive.read(name) for name in archive.namelist()}
        sheet = parts["xl/worksheets/sheet1.xml"].decode()
        sheet = sheet.replace(
            '<c r="C2"><f>LOWER(B2)</f><v />',
            f'<c r="C2" t="str"><f>LOWER(B2)</f><v>{cached}</v>',
        )
        parts["xl/worksheets/sheet1.xml"] = sheet.encode()
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
    return path


def test_formulas_without_saved_results_are_refused_naming_the_cell(
    client, owner, tmp_path
):
    path = formula_book(tmp_path, cached=None)

    context = preview(client, owner, "formulas.xlsx", path.read_bytes())

    assert "C2: =LOWER(B2)" in context["file_error"]
    assert "сохраните" in context["file_error"]


def test_formulas_with_saved_results_are_read_as_their_results(owner, tmp_path):
    path = formula_book(tmp_path, cached="anna@example.org")

    assert read_sample(path)[1] == (2, ["Анна", "ANNA@EXAMPLE.ORG", "anna@example.org"])
    job = import_file(owner, path)
    assert Client.objects.get(owner=owner).email == "anna@example.org", job.error


def test_a_damaged_sheet_is_a_clear_error_not_a_server_error(client, owner, tmp_path):
    # A number cell holding text: openpyxl raised ValueError from the middle of
    # the sheet, and the preview answered 500.
    book = Workbook()
    book.active.append(["email"])
    book.active.append(["anna@example.org"])
    book.active.append([12.5])
    path = tmp_path / "damaged.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        "<v>12.5</v>", "<v>1.x</v>"
    ).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)

    context = preview(client, owner, "damaged.xlsx", path.read_bytes())

    assert "строки 2" in context["file_error"]
    assert import_file(owner, path).status == "failed"
    assert not Client.objects.filter(owner=owner).exists()
