"""A 405 for the methods no browser form sends, on the public site.

Django's CSRF check runs in CsrfViewMiddleware.process_view, before any view can
say a method is not its own: a PUT, DELETE or PROPFIND to a page was a 403 that
read as a missing token. This middleware's process_view runs just before it
(MIDDLEWARE order) and answers 405 with the methods the address takes.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from wagtail import views as wagtail_views

from .errors import is_api

# What an HTML form or a link sends, and the CORS preflight: the CSRF check and
# the views decide these as before.
BROWSER_METHODS = ("GET", "HEAD", "OPTIONS", "POST")
# Wagtail's admin sends PATCH and DELETE itself (dismissibles, preview data), with
# its token: it keeps Django's answers.
ADMIN_PREFIX = "/admin/"


class BrowserMethodsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method in BROWSER_METHODS
            or request.path.startswith(ADMIN_PREFIX)
            # The API answers every method in its own JSON shape, an address it
            # has no route for included (site_config.errors).
            or is_api(request)
            # No CSRF check to come (the API, webhooks, one-click unsubscribe):
            # those views answer every method themselves.
            or getattr(view_func, "csrf_exempt", False)
        ):
            return None
        return HttpResponseNotAllowed(allowed_methods(view_func))


def allowed_methods(view_func) -> list[str]:
    """The browser methods the view takes: a class-based view's handlers, all four
    for Wagtail's pages, else GET and POST (a function view's own list, in
    require_http_methods, cannot be read: the Allow header names no more than it)."""
    if view_func is wagtail_views.serve:
        return list(BROWSER_METHODS)
    view_class = getattr(view_func, "view_class", None)
    if view_class is None:
        return ["GET", "POST"]
    handlers = set(dir(view_class))
    if "get" in handlers:
        handlers.add("head")  # Django's View answers HEAD with get() (View.setup)
    # Only those it lists: LogoutView has get() but takes POST alone.
    handlers &= set(view_class.http_method_names)
    return [method for method in BROWSER_METHODS if method.lower() in handlers]
