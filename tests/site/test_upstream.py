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
