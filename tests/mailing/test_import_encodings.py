"""Import files as people's tools write them (issue 12): UTF-8 with and without
BOM, UTF-16, Windows-1251 and KOI8-R, separated by commas, semicolons (Russian
Excel) or tabs. Each fixture holds the same Cyrillic rows; each is read back
exactly. The fixtures are in tests/mailing/fixtures/imports/."""

from pathlib import Path

import pytest

from mailing.imports import detect_encoding, sniff_delimiter
from mailing.models import Client
from tests.factories import import_file, make_user

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
EXPECTED = {
    "koshkin@example.org": ("Кошкин Иван", "постоянный клиент"),
    "olga@example.org": ("Ольга Петрова", ""),
    "petr@example.org": ("Пётр Сидоров", "из Москвы, с 2019 года"),
    "zhenya@example.org": ("Евгения Щукина-Эйхвальд", 'ёлки; "ЁЖ" и тире'),
}
ENCODINGS = {
    "utf8": "utf-8-sig",
    "utf8bom": "utf-8-sig",
    "utf16": "utf-16",
    "cp1251": "cp1251",
    "koi8r": "koi8_r",
}
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}


@pytest.mark.parametrize("delimiter", DELIMITERS)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_and_delimiter_is_read_back_exactly(encoding, delimiter):
    path = FIXTURES / f"clients-{encoding}-{delimiter}.csv"
    owner = make_user()

    assert detect_encoding(path).replace("-", "_") == ENCODINGS[encoding].replace(
        "-", "_"
    )
    assert sniff_delimiter(path, detect_encoding(path)) == DELIMITERS[delimiter]
    job = import_file(owner, path)

    assert (job.status, job.created, job.rejected) == ("done", 4, 0)
    read = {
        c.email: (c.full_name, c.comment) for c in Client.objects.filter(owner=owner)
    }
    assert read == EXPECTED


def test_a_one_column_file_reads_as_addresses(tmp_path):
    path = tmp_path / "emails.csv"
    path.write_text("email\nann@example.org\nbob@example.org\n", encoding="cp1251")

    assert import_file(make_user(), path).created == 2
