"""Bench-only middleware (benchmarks.settings): never in production."""

from home import generations

CHANGED_HEADER = "HTTP_X_BENCH_PAGE_CHANGED"


class PageChangedMiddleware:
    """A request with X-Bench-Page-Changed first makes its address's page generation
    new, as a publish of the page would: its cached entry, fragments and kept route
    are all out of date, and the request is what an anonymous visitor gets from the
    page cache's miss after a change (or after the minute they all expire in). The
    bump is one Redis round trip of the server's own CPU: counted, not hidden."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if CHANGED_HEADER in request.META:
            generations.bump([generations.path_generation(request.path)])
        return self.get_response(request)
