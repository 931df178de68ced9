"""Text no database column can hold, sent as JSON: a NUL ("\\u0000") or a lone UTF-16
surrogate ("\\ud800"). PostgreSQL refuses both in text and jsonb, and no UTF-8
encoder takes a lone surrogate: found by the outside run as 500s on tags,
attributes, segment rules and names. Each is a 400 with a code and a message (a
bulk row with a NUL is that row's error, as any bad row is), and nothing is
written. A body nested past Python's recursion limit was a 500 too."""

import pytest

from mailing.models import Client, Segment
from tests.factories import make_user

pytestmark = pytest.mark.django_db

NUL, SURROGATE = "\\u0000", "\\ud800"


@pytest.fixture
def api(token_for):
    from mailing.models import ClientField

    owner = make_user("mailing_user", email="owner@example.com")
    ClientField.objects.create(owner=owner, key="city", label="City")
    return token_for(owner)


# The bodies are written as JSON text: a lone surrogate cannot be encoded by the
# test client's own JSON encoder either.
BODIES = [
    ("clients/", '{"email": "t@example.org", "full_name": "a%sb"}'),
    ("clients/", '{"email": "t@example.org", "full_name": "n", "tags": ["a%s"]}'),
    (
        "clients/",
        '{"email": "t@example.org", "full_name": "n", "attributes": {"city": "a%s"}}',
    ),
    ("clients/bulk/", '{"clients": [{"email": "t@example.org", "full_name": "a%s"}]}'),
    ("clients/bulk/", '{"clients": [{"email": "t@example.org", "tags": ["a%s"]}]}'),
    (
        "clients/bulk/",
        '{"clients": [{"email": "t@example.org", "attributes": {"city": "a%s"}}]}',
    ),
    (
        "segments/",
        '{"name": "s", "match": "all",'
        ' "rules": [{"type": "tag", "op": "has", "value": "a%s"}]}',
    ),
    ("segments/", '{"name": "s%s", "match": "all", "rules": []}'),
]


@pytest.mark.parametrize("character", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize(("path", "body"), BODIES)
def test_unstorable_text_in_json_is_a_400_with_a_message(api, path, body, character):
    answer = api.post(
        f"/api/v1/{path}",
        (body % character).encode(),
        content_type="application/json",
    )
    if path == "clients/bulk/" and character == NUL:
        assert answer.status_code == 200, answer.content[:300]
        assert [e["row"] for e in answer.json()["errors"]] == [0]
    else:
        assert answer.status_code == 400, answer.content[:300]
        assert {"code", "message"} <= set(answer.json())
    assert not Client.objects.exists()
    assert not Segment.objects.exists()


@pytest.mark.parametrize("path", ["clients/", "clients/bulk/", "segments/"])
def test_json_nested_past_the_recursion_limit_is_a_400(api, path):
    deep = '{"clients": ' + "[" * 100_000 + "]" * 100_000 + "}"
    answer = api.post(f"/api/v1/{path}", deep, content_type="application/json")
    assert answer.status_code == 400, answer.content[:300]
    assert {"code", "message"} <= set(answer.json())


@pytest.mark.parametrize("field", ["email", "full_name", "comment", "time_zone"])
def test_a_nul_in_a_bulk_row_is_reported_under_its_field(api, field):
    row = {"email": "t@example.org", field: "a\u0000b"}
    answer = api.post("/api/v1/clients/bulk/", {"clients": [row]}, format="json")
    assert answer.status_code == 200, answer.content[:300]
    (error,) = answer.json()["errors"]
    assert error["field"] == field, error
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "The body is not valid JSON: "), ("ru", "Тело запроса — не JSON: ")],
)
def test_a_body_that_is_no_json_is_a_400_in_the_clients_language(api, language, words):
    answer = api.post(
        "/api/v1/clients/",
        b'{"email": "t@example.org",',
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "parse_error"
    # Ours first, then the decoder's reason saying where the body broke.
    assert body["message"].startswith(words), body
    assert "char 26" in body["message"], body
