"""Clients CSV import: the service and the upload -> preview -> confirm pages."""

import io
import os
import threading
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from mailing import import_jobs
from mailing.admin_imports import MAX_COLUMNS
from mailing.import_mapping import sample_of
from mailing.imports import ImportFileError, read_rows, read_sample, sweep_stashes
from mailing.models import Client
from mailing.tasks import sweep_import_uploads
from tests.factories import import_file, make_client, make_user, rejected_lines


@pytest.fixture
def owner(db):
    return make_user("mailing_user")


def write(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "clients.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.smoke
def test_good_file_with_header(owner, tmp_path):
    path = write(
        tmp_path,
        "email,full name,comment\na@example.org,Анна,VIP\nb@example.org,Борис,\n",
    )
    job = import_file(owner, path)
    assert job.created == 2 and job.rejected == 0
    assert Client.objects.get(owner=owner, email="a@example.org").full_name == "Анна"


def test_bad_rows_are_listed_and_good_rows_imported(owner, tmp_path):
    make_client(owner, email="Existing@example.org", full_name="Kept")
    text = (
        "good@example.org,Good,\n"  # 1
        "not-an-email,Bad,\n"  # 2
        '"x@example.org","Line\nbreak",\n'  # 3-4: the line break becomes a space
        f"{'a' * 250}@example.org,Long,\n"  # 5
        "y@example.org,Y,c,extra\n"  # 6
        "existing@EXAMPLE.org,Changed,\n"  # 7 duplicate of an existing client
        "GOOD@example.org,Twice,\n"  # 8 duplicate within the file
        f"z@example.org,{'n' * 300},\n"  # 9
    )
    job = import_file(owner, write(tmp_path, text))
    reasons = rejected_lines(job)
    assert set(reasons) == {2, 5, 6, 8, 9}
    assert "Invalid email" in reasons[2] or "Неверный" in reasons[2]
    assert "GOOD@example.org" in reasons[8] and "строке 1" in reasons[8]
    assert (job.created, job.skipped, job.repeated, job.rejected) == (2, 1, 1, 4)
    assert Client.objects.get(owner=owner, email="x@example.org").full_name == (
        "Line break"
    )
    assert (
        Client.objects.get(owner=owner, email="Existing@example.org").full_name
        == "Kept"
    )


def test_rows_an_unclosed_quote_takes_in_are_reported_at_its_line(owner, tmp_path):
    # The quote opened on line 2 closes on line 4: the reader made lines 2-4 one
    # row, and b@ and c@ vanished into a's name without a word.
    text = (
        "email,full name,comment\n"
        'a@example.org,"Anna ""Q"" ,ok\n'  # 2: its quote is never closed
        "b@example.org,Boris,ok\n"  # 3
        'c@example.org,"Vera",ok\n'  # 4
        'd@example.org,Dmitry,"Call back,\nafter 6, ask for ivan@example.org"\n'
        "e@example.org,Eva,\n"  # 7
    )
    job = import_file(owner, write(tmp_path, text))

    reasons = rejected_lines(job)
    assert set(reasons) == {2}
    assert "b@example.org" in reasons[2]
    assert "Кавычка" in reasons[2]
    emails = set(Client.objects.filter(owner=owner).values_list("email", flat=True))
    assert emails == {"d@example.org", "e@example.org"}  # a multi-line comment is kept


def test_a_file_of_only_a_header_says_so_at_preview_and_import(
    client, owner, settings, tmp_path
):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    client.force_login(owner)
    upload = SimpleUploadedFile("clients.csv", b"email,full name,comment\r\n\r\n")
    uploaded = client.post(reverse("mailing_client:import"), {"file": upload})

    preview = client.get(uploaded["Location"])
    job = import_file(owner, write(tmp_path, "email,full name,comment\n"))

    assert "только строка заголовков" in preview.context["file_error"]
    assert "confirm_form" not in preview.context
    assert job.status == "failed" and "только строка заголовков" in job.error


def test_cp1251_file_from_russian_excel(owner, tmp_path):
    path = write(tmp_path, "ivan@example.org;Иван\r\n".replace(";", ","), "cp1251")
    assert import_file(owner, path).created == 1
    assert Client.objects.get(owner=owner).full_name == "Иван"


def test_undecodable_and_empty_files_are_clear_errors(owner, tmp_path):
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\x98\x98\x98\xff\xfe\x00")
    with pytest.raises(ImportFileError, match="UTF-8"):
        read_sample(binary)
    assert "UTF-8" in import_file(owner, binary).error
    empty = write(tmp_path, "")
    assert sample_of(read_sample(empty)).width == 0
    assert import_file(owner, empty).status == "failed"
    assert not Client.objects.filter(owner=owner).exists()


@pytest.mark.slow
def test_50000_rows_in_modest_memory(owner, tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("email,full name,comment\n")
        for i in range(50_000):
            out.write(f"person{i}@example.org,Person {i},row {i}\n")
    # Memory follows the chunk, not the file: with 5,000-row chunks (25,000 in
    # production, where two of them in flight peaked at ~35 MB on SQLite) a
    # 50,000-row file must stay far under what holding it would take.
    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 5_000)
    tracemalloc.start()
    job = import_file(owner, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert job.created == 50_000
    assert Client.objects.filter(owner=owner).count() == 50_000
    # The file is ~1.9 MB; holding 50,000 model instances would take well over 50 MB.
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_upload_preview_confirm_pages(
    client, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    url = reverse("mailing_client:import")
    upload = SimpleUploadedFile(
        "c.csv", "ok@example.org,OK,\nbroken,Bad,\n".encode("cp1251")
    )
    response = client.post(url, {"file": upload})
    assert response.status_code == 302
    preview = client.get(response["Location"])
    body = preview.content.decode()
    assert "ok@example.org" in body and "broken" in body
    assert not Client.objects.filter(owner=owner).exists()  # preview writes nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"confirm": "1"}).status_code == 302
    assert list(Client.objects.filter(owner=owner).values_list("email", flat=True)) == [
        "ok@example.org"
    ]
    # The stash is gone: confirming again imports nothing twice.
    client.post(url, {"confirm": "1"})
    assert Client.objects.filter(owner=owner).count() == 1


def test_the_mapping_step_shows_each_columns_first_values():
    rows = [(1, ["email", "имя", "город"])] + [
        (line, [f"r{line}@example.org", "" if line % 2 else f"Имя {line}", "Казань"])
        for line in range(2, 8)
    ]
    rows.append((8, ["short@example.org"]))  # a row without its last cells

    values = sample_of(rows).column_values()

    assert values == [
        ["r2@example.org", "r3@example.org", "r4@example.org"],
        ["Имя 2", "Имя 4", "Имя 6"],  # blanks skipped
        ["Казань", "Казань", "Казань"],
    ]


def test_empty_upload_shows_message(client, owner):
    client.force_login(owner)
    url = reverse("mailing_client:import")
    response = client.post(url, {"file": SimpleUploadedFile("e.csv", b"")})
    assert response.status_code == 200  # Django's own "The submitted file is empty."
    assert response.context["form"].errors["file"]


def import_links(response) -> list[str]:
    import_url = reverse("mailing_client:import")
    return [
        line
        for line in response.content.decode().splitlines()
        if f'href="{import_url}"' in line
    ]


def test_clients_listing_has_an_import_button_for_the_owner(client, owner):
    client.force_login(owner)

    response = client.get(reverse("mailing_client:list"))

    assert response.status_code == 200
    # The last header button is the "more" dropdown, which has no url of its own.
    urls = [button.url for button in response.context["header_buttons"] if button.url]
    assert urls == [reverse("mailing_client:add"), reverse("mailing_client:import")]
    assert import_links(response)


def test_clients_listing_has_no_import_button_for_a_manager(client, db):
    manager = make_user("manager")
    client.force_login(manager)

    response = client.get(reverse("mailing_client:list"))

    assert response.status_code == 200
    assert reverse("mailing_client:import") not in [
        button.url for button in response.context["header_buttons"]
    ]
    assert not import_links(response)
    # The page itself refuses them too (Wagtail: a redirect to the admin home).
    assert client.get(reverse("mailing_client:import")).status_code == 302


DAY = 24 * 60 * 60


def aged_upload(directory, name, age_seconds):
    path = directory / f"{name}.csv"
    path.write_text("someone@example.org,Someone,\n")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def test_abandoned_uploads_are_swept_after_the_max_age(db, settings, tmp_path):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    settings.CLIENT_IMPORT_MAX_AGE = DAY
    old = aged_upload(tmp_path, "a" * 32, DAY + 60)
    fresh = aged_upload(tmp_path, "b" * 32, DAY - 60)
    unrelated = tmp_path / "notes.txt"
    unrelated.write_text("not an upload")

    sweep_import_uploads.call_local()

    assert not old.exists()
    assert fresh.exists() and unrelated.exists()


def test_sweeping_a_missing_folder_is_not_an_error(db, settings, tmp_path):
    settings.CLIENT_IMPORT_DIR = str(tmp_path / "never-created")

    assert sweep_stashes(time.time()) == 0


def test_an_upload_swept_before_confirm_asks_for_a_new_upload(
    client, owner, settings, tmp_path
):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    client.force_login(owner)
    url = reverse("mailing_client:import")
    client.post(url, {"file": SimpleUploadedFile("c.csv", b"late@example.org,L,\n")})
    (stash,) = tmp_path.glob("*.csv")
    os.utime(stash, (time.time() - 2 * DAY,) * 2)

    sweep_stashes(time.time())
    response = client.post(url, {"confirm": "1"}, follow=True)

    assert not stash.exists()
    assert not Client.objects.filter(owner=owner).exists()
    assert response.redirect_chain[-1][0] == url  # back to the upload form
    (message,) = response.context["messages"]
    assert message.level_tag == "error"  # "The uploaded file has expired..."


# Each file holds one good row and something broken. The preview must say what is
# wrong (the file's error, or each broken line with its reason); confirming imports
# the good row alone, or nothing when the file as a whole cannot be read.
BROKEN_FILES = {
    "NUL byte in a name": (b"good@example.org,Good,\nnul@example.org,A\x00B,\n", 1),
    "unterminated quote": (b'good@example.org,Good,\n"open@example.org,Open,\n', 1),
    "too many columns": (b"good@example.org,Good,\nc@example.org,C,c,extra\n", 1),
    "field over the csv limit": (
        b"good@example.org,Good,\nbig@example.org," + b"x" * 140_000 + b",\n",
        0,
    ),
    "an image as CSV": (b"good@example.org,Good,\n\x89PNG\r\n\x1a\n\x00\x00IHDR\n", 1),
}


@pytest.mark.parametrize("content, imported", BROKEN_FILES.values(), ids=BROKEN_FILES)
def test_broken_rows_are_explained_and_only_good_rows_imported(
    client, owner, content, imported, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    url = reverse("mailing_client:import")
    upload = SimpleUploadedFile("clients.csv", content, "text/csv")
    preview = client.get(client.post(url, {"file": upload})["Location"])
    body = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-testid="file-error"' in body or 'data-testid="import-errors"' in body
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(url, {"confirm": "1"}, follow=True)
    assert confirmed.status_code == 200
    emails = list(Client.objects.filter(owner=owner).values_list("email", flat=True))
    assert emails == ["good@example.org"][:imported]
    if 'data-testid="file-error"' in body:
        # A file the preview cannot read is not imported: the message says why.
        assert [m.level_tag for m in confirmed.context["messages"]] == ["error"]
        return
    # The job's page says what went wrong: the file's error or rejected rows.
    job = confirmed.context["job"]
    job.refresh_from_db()
    assert job.error or job.rejected, "refused without saying why"


def test_an_oversized_file_is_refused_before_it_is_stashed(
    client, owner, settings, tmp_path
):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    settings.CLIENT_IMPORT_MAX_BYTES = 1000
    client.force_login(owner)
    big = SimpleUploadedFile("c.csv", b"a@example.org,A,\n" * 100)
    response = client.post(reverse("mailing_client:import"), {"file": big})
    assert response.status_code == 200
    assert "1000" in response.context["form"].errors["file"][0]
    assert not list(tmp_path.iterdir())


def test_an_oversized_csv_field_is_explained_in_the_readers_language():
    from django.utils import translation

    from mailing.imports import _csv_rows

    content = "a@example.org," + "x" * 140_000 + "\n"
    for language, words in (
        ("en", "a field is longer than 131072 characters"),
        ("ru", "поле длиннее 131072 символов"),
    ):
        with translation.override(language):
            with pytest.raises(ImportFileError) as refused:
                list(_csv_rows(io.StringIO(content, newline=""), ","))
        assert words in str(refused.value)
        assert "field limit" not in str(refused.value)


def zip_of(name, data):
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr(name, data)
    return stream.getvalue()


# A file that is not what its name says: the message names what it is, told by its
# first bytes (a PNG named .xlsx was told to "save as CSV UTF-8", a ZIP named .csv
# that "the XLSX file cannot be read").
NOT_SPREADSHEETS = {
    "PNG named .xlsx": ("c.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)),
    "JPEG named .csv": ("c.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)),
    "ZIP named .csv": ("c.csv", zip_of("clients.csv", b"a@example.org,A\n")),
    "PDF named .csv": ("c.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(64)),
}
KINDS = {
    "PNG named .xlsx": ("an image", "изображение"),
    "JPEG named .csv": ("an image", "изображение"),
    "ZIP named .csv": ("an archive", "архив"),
    "PDF named .csv": ("a PDF document", "документ PDF"),
}


@pytest.mark.parametrize("case", NOT_SPREADSHEETS)
def test_a_file_that_is_no_spreadsheet_is_called_what_it_is(case, tmp_path):
    from django.utils import translation

    name, content = NOT_SPREADSHEETS[case]
    path = tmp_path / name
    path.write_bytes(content)
    english, russian = KINDS[case]
    for language, words in (
        ("en", f"This file is {english}, not a CSV or XLSX spreadsheet."),
        ("ru", f"Этот файл — {russian}, а не таблица CSV или XLSX."),
    ):
        with translation.override(language):
            for read in (read_sample, lambda path: list(read_rows(path))):
                with pytest.raises(ImportFileError) as refused:
                    read(path)
                assert str(refused.value).startswith(words)


def test_an_xlsx_with_one_far_cell_is_read_by_its_cells(tmp_path):
    # A cell at XFD1048576: openpyxl took the sheet's dimension, padded every row
    # to 16,384 columns and added each missing row up to 1,048,576, so a 5 KB
    # upload held the request for hours. Without the fix this thread never ends.
    book = Workbook()
    book.active.append(["email", "full name"])
    book.active.append(["far@example.org", "Far"])
    book.active["XFD1048576"] = "x"
    path = tmp_path / "clients.xlsx"
    book.save(path)
    result = []
    reader = threading.Thread(target=lambda: result.append(read_sample(path)))
    reader.daemon = True
    reader.start()
    reader.join(timeout=60)

    assert not reader.is_alive()
    assert [values for _line, values in result[0]][:2] == [
        ["email", "full name"],
        ["far@example.org", "Far"],
    ]


def test_an_xlsx_with_a_blank_cell_at_xfd_on_every_row_reads_at_openpyxls_pace(
    tmp_path,
):
    # openpyxl pads each row with None up to its last cell, here 16,384 values a
    # row; looking at each of them in Python made our part five times openpyxl's
    # own parse (py-spy: 13 ms a row, an import of 50,000 rows took minutes).
    book = Workbook()
    book.active.append(["email", "full name"])
    for row in range(2, 302):
        book.active.cell(row=row, column=1, value=f"c{row}@example.org")
        book.active.cell(row=row, column=16384, value=" ")
    path = tmp_path / "clients.xlsx"
    book.save(path)

    def fastest(read) -> float:
        times = []
        for _attempt in range(3):
            started = time.perf_counter()
            read()
            times.append(time.perf_counter() - started)
        return min(times)

    def parse_only():
        book = load_workbook(path, read_only=True, data_only=True)
        book.worksheets[0].reset_dimensions()
        for _values in book.worksheets[0].iter_rows(values_only=True):
            pass
        book.close()

    rows = list(read_rows(path))
    assert rows[1] == (2, ["c2@example.org"]) and len(rows) == 301
    assert fastest(lambda: list(read_rows(path))) < 3 * fastest(parse_only)


def test_an_xlsx_row_with_a_cell_past_the_header_is_imported_not_refused(
    client, owner, settings, tmp_path
):
    # A CSV row wider than its header has a stray delimiter; an XLSX cell stays in
    # its column, so a note at XFD beside each client took every client away.
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    book = Workbook()
    book.active.append(["email", "full name"])
    for row in (2, 3):
        book.active.cell(row=row, column=1, value=f"c{row}@example.org")
        book.active.cell(row=row, column=16384, value="note")
    path = tmp_path / "clients.xlsx"
    book.save(path)
    client.force_login(owner)
    upload = SimpleUploadedFile("clients.xlsx", path.read_bytes())
    uploaded = client.post(reverse("mailing_client:import"), {"file": upload})

    preview = client.get(uploaded["Location"])
    job = import_file(owner, path)

    assert preview.context["sample"].problems == []
    assert (job.created, job.rejected) == (2, 0)
    assert Client.objects.filter(owner=owner).count() == 2


def test_a_file_wider_than_the_mapping_page_holds_is_refused_with_its_count(
    client, owner, settings, tmp_path
):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    client.force_login(owner)
    header = ",".join(f"c{n}" for n in range(MAX_COLUMNS + 1))
    wide = SimpleUploadedFile("wide.csv", f"{header}\na@example.org\n".encode())
    uploaded = client.post(reverse("mailing_client:import"), {"file": wide})

    preview = client.get(uploaded["Location"])

    assert preview.status_code == 200
    assert str(MAX_COLUMNS + 1) in preview.context["file_error"]
    assert "Столбцов в файле" in preview.context["file_error"]  # the owner's Russian
    assert "confirm_form" not in preview.context


def test_a_file_as_wide_as_the_mapping_page_holds_is_previewed(
    client, owner, settings, tmp_path
):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    client.force_login(owner)
    header = ",".join(["email", *(f"c{n}" for n in range(MAX_COLUMNS - 1))])
    wide = SimpleUploadedFile("wide.csv", f"{header}\na@example.org\n".encode())
    uploaded = client.post(reverse("mailing_client:import"), {"file": wide})

    preview = client.get(uploaded["Location"])

    assert preview.context["file_error"] is None
    assert len(preview.context["columns"]) == MAX_COLUMNS
