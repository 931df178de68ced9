"""Single-line text of the API and of the token form: a line break, any other
control character or a text direction override is a 400 naming the field, in the
request's language; too long is a 400 as well. Such text was stored as sent
(a mailing's or a layout's name with a newline, a token named "a\\nb") or quietly
changed (a bell taken out of a client's name)."""

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.models import ApiToken
from mailing.models import (
    Client,
    EmailLayout,
    Mailing,
    MailingList,
    Message,
    Segment,
    Suppression,
)
from tests.factories import make_message

pytestmark = pytest.mark.django_db

REFUSED = {
    "en": "Line breaks, control characters and text direction overrides are not "
    "allowed here.",
    "ru": "Переносы строк, управляющие символы и символы смены направления текста "
    "здесь не допускаются.",
}
# CR LF, a lone LF, a tab, a bell, an escape, DEL, a C1 control (NEL), the
# right-to-left override and a first-strong isolate.
BAD = ["a\r\nb", "a\nb", "a\tb", "a\x07b", "a\x1b[31mb", "a\x7fb", "a\x85b"]
BAD += ["invoice\u202egpj.exe", "a\u2068b"]


def bodies(owner) -> dict[str, tuple[dict, str, type]]:
    """path: (a valid body, the single-line field, the model it makes)."""
    message = make_message(owner)
    return {
        "clients/": ({"email": "c@example.org", "full_name": "C"}, "full_name", Client),
        "lists/": ({"name": "L"}, "name", MailingList),
        "segments/": ({"name": "S", "match": "all", "rules": []}, "name", Segment),
        "messages/": ({"subject": "S", "body": "B"}, "subject", Message),
        "layouts/": ({"name": "L"}, "name", EmailLayout),
        "suppressions/": (
            {"email": "s@example.org", "detail": "D"},
            "detail",
            Suppression,
        ),
        "mailings/": (
            {
                "name": "M",
                "message": message.pk,
                "all_clients": True,
                "first_send_at": "2030-01-01T10:00:00Z",
            },
            "name",
            Mailing,
        ),
    }


@pytest.mark.parametrize("language", ["en", "ru"])
def test_single_line_fields_refuse_breaks_controls_and_overrides(
    owner, token_for, language
):
    api = token_for(owner)
    for path, (body, field, model) in bodies(owner).items():
        before = model.objects.filter(owner=owner).count()
        for text in BAD:
            answer = api.post(
                f"/api/v1/{path}",
                {**body, field: text},
                format="json",
                HTTP_ACCEPT_LANGUAGE=language,
            )
            assert answer.status_code == 400, (path, text, answer.content)
            assert answer.json()["fields"] == {field: [REFUSED[language]]}, path
        assert model.objects.filter(owner=owner).count() == before, path
        kept = api.post(f"/api/v1/{path}", body, format="json")
        assert kept.status_code == 201, (path, kept.content)


def test_right_to_left_text_and_its_marks_are_kept(owner, token_for):
    name = "\u05e9\u05dc\u05d5\u05dd \u200fNews\u200e"  # Hebrew, RLM, LRM

    answer = token_for(owner).post("/api/v1/lists/", {"name": name}, format="json")

    assert answer.status_code == 201, answer.content
    assert MailingList.objects.get(owner=owner).name == name


def test_a_layout_blocks_one_line_text_refuses_a_line_break(owner, token_for):
    header = {"type": "header", "value": {"title": "News\nBcc", "tagline": ""}}

    answer = token_for(owner).post(
        "/api/v1/layouts/",
        {"name": "L", "body": [header]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert answer.status_code == 400, answer.content
    assert answer.json()["fields"] == {"body": [f"body[0].title: {REFUSED['en']}"]}


@pytest.mark.parametrize("text", ["a\x07b", "a\u202eb"])
def test_a_subscriber_name_with_a_control_is_refused_not_changed(
    owner, token_for, text
):
    from tests.factories import make_list

    readers = make_list(owner)
    answer = token_for(owner).post(
        f"/api/v1/lists/{readers.pk}/subscriptions/",
        {"email": "p@example.org", "name": text},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ru",
    )

    assert answer.status_code == 400, answer.content
    assert answer.json()["fields"] == {"name": [REFUSED["ru"]]}
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("path", "field", "limit"),
    [
        ("lists/", "name", 255),
        ("layouts/", "name", 120),
        ("suppressions/", "detail", 255),
    ],
)
def test_single_line_text_past_its_length_is_refused_not_cut(
    owner, token_for, path, field, limit
):
    body = {**bodies(owner)[path][0], field: "x" * (limit + 1)}

    answer = token_for(owner).post(
        f"/api/v1/{path}", body, format="json", HTTP_ACCEPT_LANGUAGE="ru"
    )

    assert answer.status_code == 400, answer.content
    assert answer.json()["fields"] == {
        field: [f"Убедитесь, что это значение содержит не более {limit} символов."]
    }


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("name", ["CRM\nBcc", "CRM\r\nX", "CRM\x00", "a\u202eb"])
def test_the_token_form_refuses_a_name_of_more_than_one_line(owner, name, language):
    """The admin speaks the user's own language."""
    owner.language = language
    owner.save()
    http = HttpClient()
    http.force_login(owner)

    answer = http.post(
        reverse("mailing_api_tokens:index"), {"name": name, "scope": "read"}
    )

    assert answer.status_code == 200
    assert answer.context.get("raw_token") is None
    assert answer.context["form"].errors["name"][0] == REFUSED[language]
    assert REFUSED[language] in answer.content.decode()
    assert not ApiToken.objects.filter(user=owner).exists()


def test_the_schema_tells_what_a_one_line_field_may_hold(client):
    """The validators' patterns were of what may not stand (inverse_match), which
    the schema copied as is: "full_name must contain a line break"."""
    import re

    schema = client.get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    for name, field in (("Client", "full_name"), ("MailingList", "name")):
        pattern = schema[name]["properties"][field]["pattern"].replace("$", r"\Z")
        assert re.search(pattern, "Anna Pavlova"), (name, pattern)
        assert not re.search(pattern, "Anna\nPavlova"), (name, pattern)
