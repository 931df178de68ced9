"""Routing a path below the site root: one query, and none while the pages stand."""

from time import monotonic

from django.http import Http404
from wagtail.models import Page
from wagtail.url_routing import RouteResult

from . import generations, page_cache, page_store

# A post is kept with its body: a bound on the memory a process gives them.
KEPT_LIMIT = 500
# (site root id, path components) -> (generations, kept until, RouteResult)
_kept: dict[tuple, tuple[tuple, float, RouteResult]] = {}


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

    The page found gets its parent, read on the way, as the `parent` keyword of its
    serve() and get_context() (Wagtail's RouteResult kwargs): a post links to its
    index without a query.

    A page found by slug is kept in this process, like home.sites keeps the Site:
    profiled, its two queries were half an uncached post's time. It is served again
    while the generations of the request's site, language and address are the ones
    it was read under (a publish, a move, a new slug bumps them: home.signals), and
    the view counts' (a post shows its count as read), for at most the page's
    page_cache_seconds (what Wagtail does not signal). Without Redis nothing is
    kept.
    """

    def route(self, request, path_components):
        if not path_components:
            return super().route(request, path_components)
        generations = _route_generations(request)
        key = (self.pk, tuple(path_components))
        kept = _kept.get(key)
        if kept is not None and kept[0] == generations and kept[1] > monotonic():
            return kept[2]
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
                return RouteResult(page.specific, kwargs={"parent": parent}), True
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


def _keep(key, generations, result: RouteResult) -> None:
    if len(_kept) >= KEPT_LIMIT:
        _kept.clear()
    seconds = getattr(result.page, "page_cache_seconds", 0)
    page_cache.keep_view_restrictions(result.page)
    _kept[key] = (generations, monotonic() + seconds, result)


def forget_routes() -> None:
    """Drop the pages this process keeps (tests: a rolled-back page never bumps)."""
    _kept.clear()
