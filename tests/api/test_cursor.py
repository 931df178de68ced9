"""A tampered page cursor is the client's error, said in its language."""

import pytest

from tests.factories import make_client

pytestmark = pytest.mark.django_db


# Not base64; an offset that is no number; a direction that is no number; a
# negative offset; a position (the last id seen) that is a word, a fraction, a NUL.
@pytest.mark.parametrize(
    "cursor",
    [
        *("garbage", "bz1hYmM%3D", "cj14", "bz0tNQ%3D%3D"),
        *("cD1hYmM%3D", "cD0xLjU%3D", "cD0A"),
    ],
)
@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "The cursor is not valid"), ("ru", "Курсор недействителен")],
)
def test_a_bad_cursor_is_a_400_naming_the_parameter(
    owner, token_for, cursor, language, words
):
    make_client(owner, email="one@example.org")
    api = token_for(owner)
    answer = api.get(f"/api/v1/clients/?cursor={cursor}", HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["code"] == "invalid"
    assert words in body["fields"]["cursor"][0]


def test_a_cursor_from_the_next_link_still_pages(owner, token_for):
    for n in range(3):
        make_client(owner, email=f"c{n}@example.org")
    api = token_for(owner)
    first = api.get("/api/v1/clients/?limit=2").json()
    second = api.get(first["next"]).json()
    emails = [row["email"] for row in first["results"] + second["results"]]
    assert sorted(emails) == ["c0@example.org", "c1@example.org", "c2@example.org"]
