"""site_tags' picture and rendition tags give what Wagtail's picture and image tags
give (they only make Wagtail's Filters once and reuse what was prefetched)."""

import pytest
from django.template import Context, Template

from tests.factories import make_image

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_the_picture_tag_renders_as_wagtails():
    image = make_image("picture", size=(320, 180))
    attrs = 'sizes="100vw" class="img-fluid rounded" alt=""'

    ours = render(
        "{% load site_tags %}"
        f'{{% picture image "fill-{{80x45,160x90}}|format-{{webp,jpeg}}" {attrs} %}}',
        image=image,
    )

    wagtails = render(
        "{% load wagtailimages_tags %}"
        f"{{% picture image fill-{{80x45,160x90}} format-{{webp,jpeg}} {attrs} %}}",
        image=image,
    )
    assert ours == wagtails and ours.count("<source") == 1


def test_the_rendition_tag_gives_the_image_tags_rendition():
    image = make_image("og", size=(320, 180))
    shown = "{{ r.url }} {{ r.width }}x{{ r.height }}"

    ours = render(
        '{% load site_tags %}{% rendition image "fill-120x63|format-jpeg" as r %}'
        + shown,
        image=image,
    )

    wagtails = render(
        "{% load wagtailimages_tags %}{% image image fill-120x63 format-jpeg as r %}"
        + shown,
        image=image,
    )
    assert ours == wagtails and "120x63" in ours
