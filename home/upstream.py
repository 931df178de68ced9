"""The one place that reaches into Wagtail's internals, for the page-speed stack
(home.sites). No documented API does this; tests/site/test_upstream.py fails when
an upgrade changes it, so the fix starts and ends here.

Everything else the stack once did here has a documented way now: the Site is
found with Site.find_for_request, the parent of a routed page travels in Wagtail's
RouteResult kwargs, and Redis is spoken to through redis-py's public client
(single_connection_client, mget, register_script) with values of our own format.
"""

from wagtail.models import Site


def give_wagtail_site(request, site: Site | None) -> None:
    # Site.find_for_request returns this attribute when it is set, without a query
    # (its docstring: "The site will be cached via request._wagtail_site").
    request._wagtail_site = site
