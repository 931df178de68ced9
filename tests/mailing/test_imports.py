"""Clients CSV import: the service and the upload -> preview -> confirm pages."""

import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mailing.imports import ImportFileError, import_clients, preview_clients
from mailing.models import Client
from tests.factories import make_client, make_user


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
    report = import_clients(path, owner)
    assert report.created == 2 and report.error_count == 0
    assert Client.objects.get(owner=owner, email="a@example.org").full_name == "Анна"


def test_bad_rows_are_listed_and_good_rows_imported(owner, tmp_path):
    make_client(owner, email="Existing@example.org", full_name="Kept")
    text = (
        "good@example.org,Good,\n"  # 1
        "not-an-email,Bad,\n"  # 2
        '"x@example.org","Line\nbreak",\n'  # 3-4
        f"{'a' * 250}@example.org,Long,\n"  # 5
        "y@example.org,Y,c,extra\n"  # 6
        "existing@EXAMPLE.org,Changed,\n"  # 7 duplicate of an existing client
        "GOOD@example.org,Twice,\n"  # 8 duplicate within the file
        f"z@example.org,{'n' * 300},\n"  # 9
    )
    report = import_clients(write(tmp_path, text), owner)
    reasons = {error.line: error.reason for error in report.errors}
    assert set(reasons) == {2, 4, 5, 6, 9}
    assert "Invalid email" in reasons[2] or "Неверный" in reasons[2]
    assert report.created == 1 and report.duplicates == 2
    assert (
        Client.objects.get(owner=owner, email="Existing@example.org").full_name
        == "Kept"
    )


def test_cp1251_file_from_russian_excel(owner, tmp_path):
    path = write(tmp_path, "ivan@example.org;Иван\r\n".replace(";", ","), "cp1251")
    assert import_clients(path, owner).created == 1
    assert Client.objects.get(owner=owner).full_name == "Иван"


def test_undecodable_and_empty_files_are_clear_errors(owner, tmp_path):
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\x98\x98\x98\xff\xfe\x00")
    with pytest.raises(ImportFileError, match="UTF-8"):
        preview_clients(binary, owner)
    empty = write(tmp_path, "")
    with pytest.raises(ImportFileError):
        import_clients(empty, owner)
    assert not Client.objects.filter(owner=owner).exists()


@pytest.mark.slow
def test_50000_rows_in_modest_memory(owner, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("email,full name,comment\n")
        for i in range(50_000):
            out.write(f"person{i}@example.org,Person {i},row {i}\n")
    tracemalloc.start()
    report = import_clients(path, owner)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.created == 50_000
    assert Client.objects.filter(owner=owner).count() == 50_000
    # The file is ~1.9 MB; holding 50,000 model instances would take well over 50 MB.
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_upload_preview_confirm_pages(client, owner):
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
    assert client.post(url, {"confirm": "1"}).status_code == 302
    assert list(Client.objects.filter(owner=owner).values_list("email", flat=True)) == [
        "ok@example.org"
    ]
    # The stash is gone: confirming again imports nothing twice.
    client.post(url, {"confirm": "1"})
    assert Client.objects.filter(owner=owner).count() == 1


def test_empty_upload_shows_message(client, owner):
    client.force_login(owner)
    url = reverse("mailing_client:import")
    response = client.post(url, {"file": SimpleUploadedFile("e.csv", b"")})
    assert response.status_code == 200  # Django's own "The submitted file is empty."
    assert response.context["form"].errors["file"]


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
    client, owner, content, imported
):
    client.force_login(owner)
    url = reverse("mailing_client:import")
    upload = SimpleUploadedFile("clients.csv", content, "text/csv")
    preview = client.get(client.post(url, {"file": upload})["Location"])
    body = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-testid="file-error"' in body or 'data-testid="import-errors"' in body
    confirmed = client.post(url, {"confirm": "1"}, follow=True)
    assert confirmed.status_code == 200
    emails = list(Client.objects.filter(owner=owner).values_list("email", flat=True))
    assert emails == ["good@example.org"][:imported]
    if not imported:
        assert confirmed.context["messages"], "refused without saying why"


def test_an_oversized_file_is_refused_before_it_is_stashed(client, owner, settings):
    from mailing.admin_imports import STASH_DIR

    settings.CLIENT_IMPORT_MAX_BYTES = 1000
    client.force_login(owner)
    stashed = set(STASH_DIR.glob("*")) if STASH_DIR.exists() else set()
    big = SimpleUploadedFile("c.csv", b"a@example.org,A,\n" * 100)
    response = client.post(reverse("mailing_client:import"), {"file": big})
    assert response.status_code == 200
    assert "1000" in response.context["form"].errors["file"][0]
    assert set(STASH_DIR.glob("*")) == stashed if STASH_DIR.exists() else True
