"""The one writer of many clients (import and API) and its rule for clients that
exist already: skip, fill in from non-empty values, or replace; a field the row
does not have is never touched (issue 12)."""

import pytest
from django.urls import reverse

from mailing.client_rows import RowProblem, clean_client
from mailing.client_writes import Existing, write_clients
from mailing.models import Client
from tests.factories import make_client, make_user

pytestmark = pytest.mark.django_db

KNOWN = {"full_name": "Old Name", "comment": "old note", "time_zone": "Europe/Moscow"}


@pytest.fixture
def owner(db):
    return make_user("mailing_user")


def known(owner):
    return make_client(owner, email="Known@Example.org", **KNOWN)


def values(client) -> dict:
    client.refresh_from_db()
    return {name: getattr(client, name) for name in KNOWN}


ROW = {"email": "known@example.org", "full_name": "Новое Имя", "comment": ""}


@pytest.mark.parametrize(
    "existing, expected",
    [
        (Existing.SKIP, KNOWN),
        # Non-empty cells only: the empty comment and the absent zone stay.
        (Existing.UPDATE, {**KNOWN, "full_name": "Новое Имя"}),
        # The row's values, empty ones too; the absent zone stays.
        (Existing.REPLACE, {**KNOWN, "full_name": "Новое Имя", "comment": ""}),
    ],
)
def test_what_happens_to_an_existing_client(owner, existing, expected):
    client = known(owner)
    written = write_clients(owner.pk, [clean_client(ROW)], existing)
    assert values(client) == expected
    assert (written.created, written.known) == (0, 1)
    assert written.updated == (0 if existing == Existing.SKIP else 1)


def test_an_unchanged_client_is_not_counted_as_updated(owner):
    known(owner)
    row = clean_client({"email": "KNOWN@example.org", "full_name": "Old Name"})
    assert write_clients(owner.pk, [row], Existing.REPLACE).updated == 0


def test_clean_client_strips_and_refuses_with_the_field(owner):
    cleaned = clean_client({"email": " a@example.org ", "comment": "  note \n"})
    assert cleaned == {"email": "a@example.org", "comment": "note"}
    with pytest.raises(RowProblem) as problem:
        clean_client({"email": "a@example.org", "time_zone": "Mars/Olympus"})
    assert problem.value.field == "time_zone"


def test_the_api_upsert_strips_the_comment_and_never_blanks_a_left_out_field(
    owner, client
):
    from accounts.models import ApiToken
    from mailing.api.tokens import issue_token
    from tests.api.conftest import bearer

    existing = known(owner)
    _token, raw = issue_token(owner, "t", ApiToken.Scope.READ_WRITE)
    answer = bearer(raw).post(
        "/api/v1/clients/bulk/",
        {"clients": [{"email": "known@example.org", "comment": "  new note  "}]},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert values(existing) == {**KNOWN, "comment": "new note"}


def test_the_mapping_step_decides_the_columns(
    client, owner, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    client.force_login(owner)
    url = reverse("mailing_client:import")
    content = "ФИО;Заметка;Почта;Город\nАнна;vip;anna@example.org;Тверь\n"
    client.post(url, {"file": SimpleUploadedFile("c.csv", content.encode("cp1251"))})
    preview = client.get(f"{url}?preview=1")
    form = preview.context["confirm_form"]
    # Guessed from the Russian headers; the unknown column is ignored.
    assert [field.initial for field in form.column_fields()] == [
        "full_name",
        "comment",
        "email",
        "",
    ]
    twice = {"confirm": "1", "column_0": "email", "column_2": "email"}
    refused = client.post(url, twice)
    # The preview again, with the choices made and the reason.
    assert refused.status_code == 200
    assert 'data-testid="mapping-errors"' in refused.content.decode()
    kept = refused.context["confirm_form"]
    assert [kept[f"column_{n}"].value() for n in (0, 2)] == ["email", "email"]
    assert not Client.objects.filter(owner=owner).exists()  # refused, nothing run
    mapping = {"column_0": "", "column_1": "full_name", "column_2": "email"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"confirm": "1", "column_3": "comment", **mapping})
    saved = Client.objects.get(owner=owner)
    assert (saved.email, saved.full_name, saved.comment) == (
        "anna@example.org",
        "vip",
        "Тверь",
    )


def test_the_preview_reads_a_sample_not_the_file(owner, settings, tmp_path):
    from mailing import imports
    from mailing.import_mapping import sample_of

    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("email,name\n")
        for n in range(100_000):
            out.write(f"p{n}@example.org,Person {n}\n")
    # A byte that is not UTF-8 far past the sample: the import would refuse it
    # (or read it as another encoding); the preview never gets there.
    with path.open("ab") as out:
        out.write(b"\xff\xfe\xfa,broken\n")
    sample = sample_of(imports.read_sample(path))
    assert len(sample.rows) == imports.PREVIEW_ROWS
    assert sample.header == ["email", "name"]
    assert sample.mapping == {"email": 0, "full_name": 1}
