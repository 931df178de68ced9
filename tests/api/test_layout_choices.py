"""A layout's button links only to a published, public page: the admin's page
chooser lists owners none, so a draft's id could only come from a crafted POST or
the API, and its address would go out in every email. A page already linked stays."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from wagtail.models import PageViewRestriction

from mailing.forms import EmailLayoutForm
from tests.factories import make_blog_index, make_layout, make_post

pytestmark = pytest.mark.django_db


def button_to(page):
    return {"type": "button", "value": {"label": "Read", "page": page.pk, "url": ""}}


def post_layout(api, blocks):
    return api.post(
        "/api/v1/layouts/",
        {"name": "Mine", "body": blocks},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_a_button_links_only_to_a_published_public_page(owner, token_for):
    index = make_blog_index()
    draft = make_post(index, publish=False)
    private = make_post(index)
    PageViewRestriction.objects.create(
        page=private, restriction_type="password", password="x"
    )
    live = make_post(index)
    api = token_for(owner)

    refused = [post_layout(api, [button_to(page)]) for page in (draft, private)]
    accepted = post_layout(api, [button_to(live)])

    for answer in refused:
        assert answer.status_code == 400, answer.content
        assert "published page" in " ".join(answer.json()["fields"]["body"])
    assert accepted.status_code == 201, accepted.content


def test_a_page_the_layout_already_links_is_kept_on_a_change(owner, token_for):
    draft = make_post(make_blog_index(), publish=False)
    layout = make_layout(
        owner, blocks=[("button", {"label": "Read", "page": draft, "url": ""})]
    )

    renamed = token_for(owner).patch(
        f"/api/v1/layouts/{layout.pk}/", {"name": "Renamed"}, format="json"
    )

    assert renamed.status_code == 200, renamed.content


def test_the_admin_form_refuses_a_draft_in_russian(owner):
    draft = make_post(make_blog_index(), publish=False)
    form = EmailLayoutForm(data={"name": "Mine", "language": "ru"}, for_user=owner)
    form.cleaned_data = {
        "body": form.fields["body"].block.to_python([button_to(draft)])
    }

    with pytest.raises(ValidationError) as refused:
        form.clean_body()

    # Explicit: an earlier test in this process may have left English active.
    with translation.override("ru"):
        assert "опубликованную страницу" in str(refused.value)
