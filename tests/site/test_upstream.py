"""home.upstream leans on an internal of Wagtail: the test here fails when an
upgrade changes what it leans on."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail.models import Site

from home import upstream

pytestmark = pytest.mark.django_db


def test_wagtail_takes_the_site_it_is_given_without_a_query():
    site = Site.objects.get(is_default_site=True)
    request = RequestFactory().get("/", HTTP_HOST="localhost")
    given = Site(pk=site.pk, hostname="given", root_page=site.root_page)
    upstream.give_wagtail_site(request, given)
    with CaptureQueriesContext(connection) as queries:
        assert Site.find_for_request(request) is given
    assert len(queries) == 0


def test_wagtail_takes_no_site_it_is_given_without_a_query():
    request = RequestFactory().get("/", HTTP_HOST="localhost")
    upstream.give_wagtail_site(request, None)
    with CaptureQueriesContext(connection) as queries:
        assert Site.find_for_request(request) is None
    assert len(queries) == 0


def test_a_row_read_by_hand_holds_what_the_orm_reads():
    """home.page_rows converts a row as Django's compiler would, with the converters
    home.upstream finds: the backend's (SQLite's dates, booleans, UUIDs) and the
    fields' own (a StreamField's body)."""
    from blog.models import BlogPage
    from home import page_rows
    from tests.factories import make_blog_index, make_post

    post = make_post(make_blog_index(), slug="by-hand", body=[("quote", "Quoted")])
    table = BlogPage._meta.db_table
    sql = (
        f"SELECT {page_rows.select_list(BlogPage)} FROM wagtailcore_page"
        f" JOIN {table} ON {table}.page_ptr_id = wagtailcore_page.id"
        " WHERE wagtailcore_page.id = %s"
    )

    (by_hand,) = page_rows.read(BlogPage, sql, [post.pk])

    by_orm = BlogPage.objects.get(pk=post.pk)
    for field in BlogPage._meta.concrete_fields:
        assert getattr(by_hand, field.attname) == getattr(by_orm, field.attname)
    assert by_hand.body.get_prep_value() == by_orm.body.get_prep_value()
    assert by_hand.body[0].value == "Quoted"
    assert not by_hand._state.adding and by_hand._state.db == "default"
