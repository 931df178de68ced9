"""Routing a path below the site root in two queries, not two per level."""

from django.http import Http404
from wagtail.models import Page
from wagtail.url_routing import RouteResult


def _routes_children_by_slug(page: Page) -> bool:
    model = page.specific_class
    return model is not None and model.route is Page.route


class DirectRouteMixin:
    """For the site root: read every page on the path in one query.

    Wagtail walks a path a level at a time, two queries per level (the child by its
    slug, then its specific object): profiled, 5 of the 13 queries of a blog post.
    Here the pages on the path are read together by their url_path, and only the
    last one's specific object is loaded. A page on the way that routes its children
    itself (a custom `route`) is handed the rest of the path, as Wagtail would.

    The page found gets its parent, read on the way, as the `parent` keyword of its
    serve() and get_context() (Wagtail's RouteResult kwargs): a post links to its
    index without a query.
    """

    def route(self, request, path_components):
        if not path_components:
            return super().route(request, path_components)
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
                return RouteResult(page.specific, kwargs={"parent": parent})
            if last or not _routes_children_by_slug(page):
                return page.specific.route(request, path_components[depth + 1 :])
            parent = page
