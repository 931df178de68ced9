"""The one place that reaches into Wagtail's and Django's internals, for the
page-speed stack (home.sites, home.page_rows). No documented API does these;
tests/site/test_upstream.py fails when an upgrade changes them, so the fix starts
and ends here.

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


def column_converters(fields, connection) -> list[list[tuple]]:
    """Per field, [(converter, expression)] as Django's SQL compiler applies them to
    a value read from the field's column (the database backend's, then the
    field's from_db_value), for home.page_rows.

    No documented API gives them: DatabaseOperations.get_db_converters and
    Field.get_db_converters are Django's own (tests/site/test_upstream.py).
    """
    found = []
    for field in fields:
        column = field.get_col(field.model._meta.db_table)
        converters = [
            *connection.ops.get_db_converters(column),
            *column.get_db_converters(connection),
        ]
        found.append([(convert, column) for convert in converters])
    return found
