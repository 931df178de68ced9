"""An image file Pillow cannot read is refused in every Wagtail image form, with a
message, and saves nothing (home/images.py; Wagtail 8 alone answered 500). An
oversized document is refused the same way (WAGTAILDOCS_MAX_UPLOAD_SIZE)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

from tests.security.forms import shows_an_error
from tests.security.uploads import png

pytestmark = pytest.mark.django_db

TRUNCATED = png(8, 8)[:40]  # the PNG signature and header, no image data


def assert_refused_with_a_message(response) -> None:
    """The form shown again with an error, or the multiple uploader's JSON refusal."""
    assert response.status_code == 200
    body = response.content.decode()
    if "json" in response["Content-Type"]:
        answer = json.loads(body)
        assert answer["success"] is False and answer["error_message"]
    else:
        assert shows_an_error(body)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/admin/images/add/", "file"),
        ("/admin/images/{pk}/", "file"),
        ("/admin/images/multiple/add/", "files[]"),
    ],
)
def test_a_truncated_png_is_refused_with_a_message(world, url, field):
    images = get_image_model().objects
    before = images.count()
    url = url.format(pk=images.first().pk)
    http = world.client_for("editor", raise_request_exception=False)
    upload = SimpleUploadedFile("cut.png", TRUNCATED, "image/png")
    response = http.post(url, {"title": "cut", field: upload})
    assert_refused_with_a_message(response)
    assert images.count() == before


@pytest.mark.parametrize(
    ("url", "field"),
    [("/admin/documents/add/", "file"), ("/admin/documents/multiple/add/", "files[]")],
)
def test_an_oversized_document_is_refused_with_a_message(world, settings, url, field):
    limit = settings.WAGTAILDOCS_MAX_UPLOAD_SIZE  # Wagtail sets none by default
    assert limit
    documents = get_document_model().objects
    before = documents.count()
    http = world.client_for("editor", raise_request_exception=False)
    upload = SimpleUploadedFile("big.txt", b"x" * (limit + 1), "text/plain")
    response = http.post(url, {"title": "big", field: upload})
    assert_refused_with_a_message(response)
    assert documents.count() == before
