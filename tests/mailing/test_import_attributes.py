"""Import columns mapped to the owner's declared custom fields ("attribute:<key>")
and to tags (issue 12): values typed by the field (a number, a date, yes or no), a
bad value a rejected row that says which field and why, Cyrillic kept exactly."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from mailing.import_jobs import run_import, start_import
from mailing.import_mapping import guess_mapping, owner_fields, targets_for
from mailing.imports import stash_path
from mailing.models import Client, ClientField, MailingList
from tests.factories import make_client, make_user, rejected_lines

pytestmark = pytest.mark.django_db

HEADER = "email;имя;город;возраст;день рождения;vip;теги\n"


@pytest.fixture
def owner(db, settings, tmp_path):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    owner = make_user("mailing_user")
    for key, label, kind in [
        ("city", "Город", "text"),
        ("age", "Возраст", "number"),
        ("birthday", "День рождения", "date"),
        ("vip", "VIP", "boolean"),
    ]:
        ClientField.objects.create(owner=owner, key=key, label=label, kind=kind)
    return owner


def imported(owner, text: str, **options):
    token = "b" * 32
    stash_path(token).write_text(text, encoding="utf-8")
    job = start_import(owner, token, file_name="c.csv", **options)
    return run_import(job.pk)


def test_a_header_naming_declared_fields_maps_them():
    owner = make_user()
    ClientField.objects.create(owner=owner, key="city", label="Город")
    first = ["Email", "Город", "Теги", "Прочее"]
    assert guess_mapping(first, owner_fields(owner.pk)) == {
        "email": 0,
        "attribute:city": 1,
        "tags": 2,
    }


def test_typed_values_and_tags_are_stored(owner):
    mailing_list = MailingList.objects.create(owner=owner, name="Клуб")
    job = imported(
        owner,
        HEADER + "ivan@example.org;Иван;Казань;1 234,5;31.12.1990;да;Клиент, ВИП\n",
        mailing_list=mailing_list,
    )
    assert (job.status, job.created, job.rejected) == ("done", 1, 0)
    ivan = Client.objects.get(owner=owner)
    assert ivan.attributes == {
        "city": "Казань",
        "age": 1234.5,
        "birthday": "1990-12-31",
        "vip": True,
    }
    assert ivan.tags == ["вип", "клиент"]
    assert ivan.subscriptions.get().mailing_list == mailing_list


def test_a_bad_value_rejects_its_row_with_the_field_and_the_reason(owner):
    job = imported(
        owner,
        HEADER
        + "a@example.org;А;Омск;много;;;\n"
        + "b@example.org;Б;Омск;;32.13.2001;;\n"
        + "c@example.org;В;Омск;;;может быть;\n"
        + "d@example.org;Г;Омск;7;;нет;\n",
    )
    assert (job.created, job.rejected) == (1, 3)
    reasons = rejected_lines(job)
    assert reasons[2] == "«Возраст»: Ожидается число."
    assert reasons[3] == "«День рождения»: Ожидается дата в виде ГГГГ-ММ-ДД."
    assert reasons[4] == "«VIP»: Ожидается «да» или «нет»."
    kept = Client.objects.get(owner=owner)
    assert kept.attributes == {"city": "Омск", "age": 7, "vip": False}


def test_a_nul_in_a_tag_or_a_text_field_rejects_its_row(owner):
    """The plain columns refused a NUL already; tags and custom fields went on to
    the jsonb columns, where PostgreSQL failed the whole chunk's INSERT (a failed
    job, the good rows beside it lost with it)."""
    job = imported(
        owner,
        HEADER
        + "a@example.org;А;Ом\x00ск;;;;\n"
        + "b@example.org;Б;Омск;;;;ви\x00п\n"
        + "c@example.org;В;Омск;;;;вип\n",
    )
    assert (job.status, job.created, job.rejected) == ("done", 1, 2)
    assert set(rejected_lines(job)) == {2, 3}
    assert Client.objects.get(owner=owner).email == "c@example.org"


@pytest.mark.parametrize(
    "policy, attributes, tags",
    [
        # Filling in: empty cells leave what the client has.
        ("update", {"city": "Тверь", "age": 40}, ["старый"]),
        # Replacing: an empty cell empties the field, other keys stay.
        ("replace", {"city": "Тверь"}, []),
    ],
)
def test_known_clients_take_the_row_as_the_policy_says(owner, policy, attributes, tags):
    known = make_client(owner, email="known@example.org")
    known.attributes, known.tags = {"city": "Омск", "age": 40}, ["старый"]
    known.save()
    job = imported(owner, HEADER + "known@example.org;Кто;Тверь;;;;\n", existing=policy)
    known.refresh_from_db()
    assert (known.attributes, known.tags) == (attributes, tags)
    assert job.updated == 1


def test_a_new_client_without_attribute_columns_gets_empty_bags(owner):
    imported(owner, "email;имя\nann@example.org;Анна\n")
    ann = Client.objects.get(owner=owner)
    assert (ann.attributes, ann.tags, ann.full_name) == ({}, [], "Анна")


def test_the_mapping_screen_offers_the_owners_fields_only(owner, client):
    other = make_user()
    ClientField.objects.create(owner=other, key="secret", label="Чужое поле")
    client.force_login(owner)
    upload = HEADER + "ivan@example.org;Иван;Казань;30;01.02.1990;да;a\n"
    page = client.post(
        reverse("mailing_client:import"),
        {"file": SimpleUploadedFile("c.csv", upload.encode())},
        follow=True,
    )
    html = page.content.decode()
    assert targets_for(owner_fields(owner.pk))["attribute:birthday"] == "День рождения"
    assert 'value="attribute:birthday" selected' in html
    assert 'value="tags" selected' in html
    assert "Чужое поле" not in html


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "The text contains a NUL character."), ("ru", "В тексте есть символ NUL.")],
)
def test_a_nul_has_the_same_words_in_every_column(owner, language, words):
    """The plain columns said "The row contains...", tags and custom fields "The
    text contains...": one check now, one message."""
    with translation.override(language):
        job = imported(
            owner,
            HEADER
            + "a@example.org;А\x00;Омск;;;;\n"
            + "b@example.org;Б;Ом\x00ск;;;;\n"
            + "c@example.org;В;Омск;;;;ви\x00п\n",
        )
    reasons = rejected_lines(job)
    assert set(reasons) == {2, 3, 4}
    assert all(words in reason for reason in reasons.values()), reasons
