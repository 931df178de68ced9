"""Values of the wrong type or shape, sent as a client program would send them:
each read as DRF's own fields read it, or refused with a 400 naming the field, in
the request's language; never stored changed, never a 500."""

import pytest

from mailing.models import Client, Mailing
from tests.factories import make_list

pytestmark = pytest.mark.django_db


def bulk(api, target, language="en"):
    return api.post(
        "/api/v1/clients/bulk/",
        {"clients": [{"email": "one@example.org"}], "list": target},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_a_bulk_requests_list_id_may_be_a_numeric_string(owner, token_for):
    """As every id field of DRF reads it: "2" was "Not found: 2"."""
    readers = make_list(owner)

    answer = bulk(token_for(owner), str(readers.pk))

    assert answer.status_code == 200, answer.content
    assert readers.subscriptions.filter(client__email="one@example.org").exists()


@pytest.mark.parametrize(
    ("value", "english", "russian"),
    [
        ("x", "A valid integer is required.", "Нужно целое число."),
        ("", "A valid integer is required.", "Нужно целое число."),
        (1.5, "A valid integer is required.", "Нужно целое число."),
        (True, "A valid integer is required.", "Нужно целое число."),
        ([1], "A valid integer is required.", "Нужно целое число."),
        (0, "greater than or equal to 1", "больше либо равно 1"),
        (-1, "greater than or equal to 1", "больше либо равно 1"),
        (2**63, "less than or equal to", "меньше либо равно"),
    ],
)
def test_a_bulk_list_that_is_no_id_is_refused_by_name(
    owner, token_for, value, english, russian
):
    api = token_for(owner)
    for language, words in (("en", english), ("ru", russian)):
        answer = bulk(api, value, language)
        assert answer.status_code == 400, answer.content
        (message,) = answer.json()["fields"]["list"]
        assert words in message, (language, message)
    assert not Client.objects.exists()


def test_a_bulk_list_of_another_owner_is_not_found(owner, token_for):
    from tests.factories import make_user

    theirs = make_list(make_user("mailing_user"))

    answer = bulk(token_for(owner), str(theirs.pk), "ru")

    assert answer.status_code == 400
    assert answer.json()["fields"]["list"] == [f"Не найдены: {theirs.pk}."]
    assert not Client.objects.exists()


TAGS_REFUSED = {"en": "Tags must be a list of words.", "ru": "Метки — это список слов."}


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("tags", ["word", "vip,news", "", {"vip": True}, 5])
def test_tags_that_are_no_list_are_refused_not_split(owner, token_for, tags, language):
    """A string was split at commas (the file import's rule): "word" stored as a
    tag where the program had the type wrong."""
    api = token_for(owner)
    body = {"email": "t@example.org", "full_name": "T", "tags": tags}

    answer = api.post(
        "/api/v1/clients/", body, format="json", HTTP_ACCEPT_LANGUAGE=language
    )

    assert answer.status_code == 400, answer.content
    assert answer.json()["fields"] == {"tags": [TAGS_REFUSED[language]]}
    assert not Client.objects.exists()


def test_tags_that_are_no_list_change_nothing_on_an_update(owner, token_for):
    from tests.factories import make_client

    client = make_client(owner, tags=["kept"])

    answer = token_for(owner).patch(
        f"/api/v1/clients/{client.pk}/", {"tags": "other"}, format="json"
    )

    assert answer.status_code == 400, answer.content
    client.refresh_from_db()
    assert client.tags == ["kept"]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_bulk_row_with_tags_as_a_string_is_that_rows_error(
    owner, token_for, language
):
    rows = [
        {"email": "text@example.org", "tags": "word"},
        {"email": "list@example.org", "tags": ["word"]},
        {"email": "none@example.org", "tags": None},
    ]

    answer = token_for(owner).post(
        "/api/v1/clients/bulk/",
        {"clients": rows},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["errors"] == [
        {"row": 0, "field": "tags", "message": TAGS_REFUSED[language]}
    ]
    assert dict(Client.objects.values_list("email", "tags")) == {
        "list@example.org": ["word"],
        "none@example.org": [],
    }


def header_with(logo):
    return [{"type": "header", "value": {"logo": logo, "title": "News"}}]


def post_layout(api, body, language="en"):
    return api.post(
        "/api/v1/layouts/",
        {"name": "Mine", "body": body},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.mark.parametrize(
    ("logo", "english", "russian"),
    [
        (-1, "Not found: -1.", "Не найдены: -1."),
        (0, "Not found: 0.", "Не найдены: 0."),
        (999999, "Not found: 999999.", "Не найдены: 999999."),
        (2**63, f"Not found: {2**63}.", f"Не найдены: {2**63}."),
        ("x", "A valid integer is required.", "Нужно целое число."),
        ("", "A valid integer is required.", "Нужно целое число."),
        (1.5, "A valid integer is required.", "Нужно целое число."),
        (True, "A valid integer is required.", "Нужно целое число."),
        ([1], "A valid integer is required.", "Нужно целое число."),
    ],
)
def test_a_logo_that_is_no_image_is_refused_by_name(
    owner, token_for, logo, english, russian
):
    """Such a logo was stored as "no logo", with a 201."""
    from mailing.models import EmailLayout

    api = token_for(owner)
    for language, words in (("en", english), ("ru", russian)):
        answer = post_layout(api, header_with(logo), language)
        assert answer.status_code == 400, answer.content
        assert answer.json()["fields"] == {"body": [f"body[0].logo: {words}"]}
    assert not EmailLayout.objects.filter(owner=owner).exists()


def test_a_logo_from_a_collection_the_owner_may_not_choose_is_refused(owner, token_for):
    from django.contrib.auth.models import Group
    from wagtail.models import Collection, GroupCollectionPermission

    from accounts.models import MAILING_USERS_GROUP
    from tests.factories import make_image

    # Mailing users may choose images of one collection only, not the root's.
    choose = GroupCollectionPermission.objects.filter(
        group__name=MAILING_USERS_GROUP, permission__codename="choose_image"
    )
    permission = choose.get().permission
    choose.delete()
    root = Collection.get_first_root_node()
    theirs = root.add_child(name="Mailing images")
    GroupCollectionPermission.objects.create(
        group=Group.objects.get(name=MAILING_USERS_GROUP),
        collection=theirs,
        permission=permission,
    )
    shared, private = make_image("Shared"), make_image("Private")
    shared.collection = theirs
    shared.save()
    api = token_for(owner)

    refused = post_layout(api, header_with(private.pk))
    chosen = post_layout(api, header_with(str(shared.pk)))

    assert refused.status_code == 400, refused.content
    assert refused.json()["fields"] == {
        "body": [f"body[0].logo: Not found: {private.pk}."]
    }
    assert chosen.status_code == 201, chosen.content
    assert chosen.json()["body"][0]["value"]["logo"] == shared.pk


def test_a_buttons_page_that_is_no_page_is_refused_not_dropped(owner, token_for):
    button = {"label": "Read", "page": -1, "url": "https://example.org/"}

    answer = post_layout(token_for(owner), [{"type": "button", "value": button}])

    assert answer.status_code == 400, answer.content
    assert answer.json()["fields"] == {"body": ["body[0].page: Not found: -1."]}


def test_a_null_logo_is_no_logo(owner, token_for):
    answer = post_layout(token_for(owner), header_with(None))
    assert answer.status_code == 201, answer.content
    assert answer.json()["body"][0]["value"]["logo"] is None


@pytest.mark.parametrize("number", ["1e309", "-1e309", "1e400"])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("mailings/", '{"name": "m", "message": %s, "all_clients": true}'),
        ("clients/bulk/", '{"clients": [{"email": "n@example.org"}], "list": %s}'),
        (
            "layouts/",
            '{"name": "L", "body": [{"type": "header", "value": {"logo": %s}}]}',
        ),
        ("clients/", '{"email": "n@example.org", "full_name": "N", "tags": [%s]}'),
    ],
)
def test_a_number_past_a_doubles_range_is_a_400_not_a_500(
    owner, token_for, path, body, number
):
    """1e309 is read as infinity: the message lookup raised OverflowError."""
    api = token_for(owner)
    api.raise_request_exception = False
    for language, words in (
        ("en", "The JSON contains a number too large for any field."),
        ("ru", "В JSON есть число, слишком большое для любого поля."),
    ):
        answer = api.post(
            f"/api/v1/{path}",
            (body % number).encode(),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert answer.status_code == 400, answer.content[:300]
        assert answer.json() == {"code": "parse_error", "message": words}
    assert not Client.objects.exists()


def test_nan_and_infinity_are_no_json(owner, token_for):
    for constant in ("NaN", "Infinity", "-Infinity"):
        answer = token_for(owner).post(
            "/api/v1/clients/bulk/",
            b'{"clients": [], "list": %s}' % constant.encode(),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="ru",
        )
        assert answer.status_code == 400, answer.content[:300]
        assert answer.json()["message"].startswith("Тело запроса — не JSON: ")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Select a valid choice. yes is not one of the available choices."),
        ("ru", "Выберите корректный вариант. yes нет среди допустимых значений."),
    ],
)
def test_a_yes_no_filter_refuses_a_word_it_does_not_know(
    owner, token_for, language, words
):
    """?is_paused=yes was no filter at all: every mailing, paused or not."""
    from tests.factories import make_mailing

    paused = make_mailing(owner, name="Paused")
    Mailing.objects.filter(pk=paused.pk).update(is_paused=True)
    make_mailing(owner, name="Running")
    api = token_for(owner)

    refused = api.get("/api/v1/mailings/?is_paused=yes", HTTP_ACCEPT_LANGUAGE=language)
    names = {
        value: [
            row["name"]
            for row in api.get(f"/api/v1/mailings/?is_paused={value}").json()["results"]
        ]
        for value in ("true", "1", "false", "0")
    }

    assert refused.status_code == 400, refused.content
    assert refused.json()["fields"] == {"is_paused": [words]}
    assert names == {
        "true": ["Paused"],
        "1": ["Paused"],
        "false": ["Running"],
        "0": ["Running"],
    }
