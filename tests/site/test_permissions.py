"""Only editors write and publish pages; mailing users and managers cannot."""

import pytest
from wagtail.models import Page
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from blog.models import BlogPage
from tests.factories import home_page, make_blog_index, make_post, make_user

pytestmark = pytest.mark.django_db


def post_form(title="Admin post", **extra):
    return nested_form_data(
        {
            "title": title,
            "slug": "admin-post",
            "date": "2026-01-15",
            "author": "Someone",
            "intro": "Written in the admin",
            "tags": "news",
            "body": streamfield([("paragraph", rich_text("<p>Hello</p>"))]),
            **extra,
        }
    )


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("editor", True), ("mailing_user", False), ("manager", False)],
)
def test_only_editors_may_add_edit_and_publish(role, allowed):
    user = make_user(role)
    index = make_blog_index()
    post = make_post(index)
    for page in (home_page(), index, post):
        tester = page.permissions_for_user(user)
        assert tester.can_edit() is allowed
        assert tester.can_publish() is allowed
        assert tester.can_unpublish() is allowed
    assert index.permissions_for_user(user).can_add_subpage() is allowed


def test_editors_cannot_add_new_site_roots():
    assert (
        not Page.get_first_root_node()
        .permissions_for_user(make_user("editor"))
        .can_add_subpage()
    )


def test_an_editor_publishes_a_post_in_the_admin(client):
    index = make_blog_index()
    client.force_login(make_user("editor"))

    response = client.post(
        f"/admin/pages/add/blog/blogpage/{index.pk}/",
        post_form(**{"action-publish": "action-publish"}),
    )

    assert response.status_code == 302, response.content[:2000]
    post = BlogPage.objects.get(slug="admin-post")
    assert post.live
    assert [t.name for t in post.tags.all()] == ["news"]
    assert client.get("/blog/admin-post/").status_code == 200


@pytest.mark.parametrize("role", ["mailing_user", "manager"])
def test_others_are_refused_in_the_admin(client, role):
    index = make_blog_index()
    post = make_post(index, title="Keep me")
    client.force_login(make_user(role))

    add = client.post(
        f"/admin/pages/add/blog/blogpage/{index.pk}/",
        post_form(**{"action-publish": "action-publish"}),
    )
    edit = client.post(
        f"/admin/pages/{post.pk}/edit/",
        post_form(title="Changed", **{"action-publish": "action-publish"}),
    )
    unpublish = client.post(f"/admin/pages/{post.pk}/unpublish/")

    for response in (add, edit, unpublish):
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
    assert not BlogPage.objects.filter(slug="admin-post").exists()
    post.refresh_from_db()
    assert post.title == "Keep me" and post.live


def test_no_other_group_holds_a_page_permission():
    from wagtail.models import GroupPagePermission

    granted = GroupPagePermission.objects.values_list(
        "group__name", "permission__codename"
    )
    assert set(granted) == {
        ("Editors", "add_page"),
        ("Editors", "change_page"),
        ("Editors", "publish_page"),
    }
    assert {perm.page.specific_class for perm in GroupPagePermission.objects.all()} == {
        type(home_page())
    }
