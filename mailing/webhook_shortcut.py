"""ESP webhooks skip the middleware that serves pages and people.

A webhook is a machine posting JSON with basic auth: it has no session, user,
language, CSRF token, message or page, yet those middlewares were about a third of
a one-event request's time (issue 17's profile). Put right after
SecurityMiddleware, whose SSL redirect and headers still apply, this one hands a
request whose path resolves to an Anymail route straight to that view and returns
its answer. Any other path goes on down the chain unchanged, so a mistyped
webhook address still gets the 404 page, APPEND_SLASH and the redirects.

A separate WSGI handler with its own chain would skip a little more, but only
through Django's private middleware attributes; a middleware and `resolve()` are
documented API.
"""

from django.urls import Resolver404, resolve

from .webhooks import URL_PREFIX

NAMESPACE = "anymail"  # site_config/urls.py includes the routes under it


class WebhookShortcutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/" + URL_PREFIX

    def __call__(self, request):
        path = request.path_info
        if path.startswith(self.prefix):
            match = _webhook_route(path)
            if match is not None:
                request.resolver_match = match
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)


def _webhook_route(path: str):
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match if NAMESPACE in match.namespaces else None
