"""An image file Pillow cannot read is refused in every Wagtail image form, with a
message, and saves nothing (home/images.py; Wagtail 8 alone answered 500)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.images import get_image_model

from tests.security.forms import shows_an_error
from tests.security.uploads import png

pytestmark = pytest.mark.django_db

TRUNCATED = png(8, 8)[:40]  # the PNG signature and header, no image data


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
    assert response.status_code == 200
    body = response.content.decode()
    if "json" in response["Content-Type"]:
        answer = json.loads(body)
        assert answer["success"] is False and answer["error_message"]
    else:
        assert shows_an_error(body)
    assert images.count() == before
