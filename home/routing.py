"""Routing a path below the site root: one query, and none while the pages stand."""

from functools import cache
from time import monotonic

from django.http import Http404
from wagtail.models import Page
from wagtail.url_routing import RouteResult

from . import generations, page_cache, page_rows, page_store

# A post is kept with its body: a bound on the memory a process gives them.
KEPT_LIMIT = 500
# (site root id, path components) -> (generations, kept until, RouteResult)
_kept: dict[tuple, tuple[tuple, float, RouteResult]] = {}
# Of the route generations: those that decide which page an address is (the rest
# decide what the page holds).
ADDRESS_GENERATIONS = 2


def _routes_children_by_slug(page: Page) -> bool:
    model = page.specific_class
    return model is not None and model.route is Page.route


class DirectRouteMixin:
    """For the site root: read every page on the path in one query, or none.

    Wagtail walks a path a level at a time, two queries per level (the child by its
    slug, then its specific object): profiled, 5 of the 13 queries of a blog post.
    Here the pages on the path are read together by their url_path, and only the
    last one's specific object is loaded. A page on the way that routes its children
    itself (a custom `route`) is handed the rest of the path, as Wagtail would.

    The page found gets its parent, read on the way, and the parent's address as
    the `parent` and `parent_url` keywords of its serve() and get_context()
    (Wagtail's RouteResult kwargs): a post links to its index without a query.

    A page found by slug is kept in this process, like home.sites keeps the Site:
    profiled, its two queries were half an uncached post's time. It is served again
    while the generations of the request's site, language and address are the ones
    it was read under (a publish, a move, a new slug bumps them: home.signals), and
    the view counts' (a post shows its count as read), for at most the page's
    page_cache_seconds (what Wagtail does not signal). Without Redis nothing is
    kept.

    A publish of the page itself changes what it holds, not which page its address
    is (a new slug or a move bumps the language): while the site and language
    generations stand, a kept page whose own generation moved is read again by its
    id alone, one query (profiled on the first visitor after a publish, the walk
    and the specific read were a third of the render).
    """

    def route(self, request, path_components):
        if not path_components:
            return super().route(request, path_components)
        generations = _route_generations(request)
        key = (self.pk, tuple(path_components))
        kept = _kept.get(key)
        if kept is not None and generations is not None and kept[1] > monotonic():
            if kept[0] == generations:
                return kept[2]
            if kept[0][:ADDRESS_GENERATIONS] == generations[:ADDRESS_GENERATIONS]:
                result = _read_again(kept[2])
                if result is not None:
                    _keep(key, generations, result, until=kept[1])
                    return result
        result, by_slug = self._route_by_url_path(request, path_components)
        if by_slug and generations is not None:
            _keep(key, generations, result)
        return result

    def _route_by_url_path(self, request, path_components):
        """(RouteResult, whether it was found by slug alone)."""
        url_paths = [
            self.url_path + "/".join(path_components[: depth + 1]) + "/"
            for depth in range(len(path_components))
        ]
        found = {
            page.url_path: page
            for page in Page.objects.descendant_of(self).filter(url_path__in=url_paths)
        }
        parent = self
        for depth, url_path in enumerate(url_paths):
            page = found.get(url_path)
            if page is None:
                raise Http404
            last = depth == len(url_paths) - 1
            if last and _routes_children_by_slug(page):
                # What Page.route answers for the page itself, with its parent.
                if not page.live:
                    raise Http404
                related = getattr(page.specific_class, "route_select_related", ())
                specific = _read_specific(page, related) or page.specific
                # Its parent's address with it: a post links to its index, and
                # finding an address asks Wagtail's cache for the site's roots.
                parent_url = parent.get_url(request)
                kwargs = {"parent": parent, "parent_url": parent_url}
                return RouteResult(specific, kwargs=kwargs), True
            if last or not _routes_children_by_slug(page):
                rest = path_components[depth + 1 :]
                return page.specific.route(request, rest), False
            parent = page


def _route_generations(request) -> tuple | None:
    """The request's site, language and address generations, or None when there
    are none to check a kept page by (no Redis, or Redis not answering)."""
    if not page_store.available():
        return None
    found = page_cache.page_generations(request)
    # The site-wide generation is made when missing: 0 is Redis not answering (a
    # page's own is 0 until its first change).
    if not found["site"]:
        return None
    if "views" not in found:  # a page cache miss: its lookup reads only its own
        views = page_store.read([generations.VIEWS])
        found["views"] = page_store.as_generation(views[0]) if views else 0
    return found["site"], found["language"], found["page"], found["views"]


def _read_specific(page: Page, related=(), **filters) -> Page | None:
    """The page as its own class in one query, with the relations `related`, or
    None where `filters` exclude it or its class is gone."""
    model = page.specific_class
    if model is None:
        return None
    # Unordered: one row, and ordering by path was a tenth of the query's making.
    pages = model._default_manager.filter(pk=page.pk, **filters).order_by()
    if related:
        pages = pages.select_related(*related)
    return next(iter(pages), None)


def _read_live(page: Page) -> Page | None:
    """The page as its own class if it is still live, or None: one handwritten
    query over its tables (Page's and each subclass's, joined on the id).

    Profiled on the first visitor after a publish: Django building the SQL of the
    equal queryset (_read_specific) was 0.7 of its 1.8 ms of CPU, and reading it as
    a raw queryset cost more than the row (home.page_rows).
    """
    model = page.specific_class
    if model is None:
        return None
    return next(iter(page_rows.read(model, _live_sql(model), [page.pk])), None)


@cache
def _live_sql(model) -> str:
    page_table = Page._meta.db_table
    joins = "".join(
        f" JOIN {parent._meta.db_table} ON {parent._meta.db_table}."
        f"{parent._meta.pk.column} = {page_table}.id"
        for parent in [model, *model._meta.get_parent_list()]
        if parent is not Page and issubclass(parent, Page)
    )
    columns = page_rows.select_list(model)
    # Table and column names from the models' own metadata; the id is a parameter.
    return (
        f"SELECT {columns} FROM {page_table}{joins}"  # nosec B608 - names from models
        f" WHERE {page_table}.id = %s AND {page_table}.live"
    )


def _read_again(kept: RouteResult) -> RouteResult | None:
    """The kept route with its page read again (None when it is no longer live:
    the walk decides then). Its view restrictions stand with the site generation,
    and the page keeps what it says a publish of it leaves (keep_from)."""
    previous = kept.page
    page = _read_live(previous)
    if page is None:
        return None
    restrictions = getattr(previous, "kept_view_restrictions", None)
    if restrictions is not None:
        page.kept_view_restrictions = restrictions
    if hasattr(page, "keep_from"):
        page.keep_from(previous)
    return RouteResult(page, args=kept.args, kwargs=kept.kwargs)


def _keep(key, generations, result: RouteResult, until: float | None = None) -> None:
    """Keep `result` until the page's page_cache_seconds from now, or `until`: a
    page read again by its id keeps its address no longer than it was first found."""
    if len(_kept) >= KEPT_LIMIT:
        _kept.clear()
    if until is None:
        until = monotonic() + getattr(result.page, "page_cache_seconds", 0)
    page_cache.keep_view_restrictions(result.page)
    _kept[key] = (generations, until, result)


def forget_routes() -> None:
    """Drop the pages this process keeps (tests: a rolled-back page never bumps)."""
    _kept.clear()
