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

from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import Resolver404, get_urlconf, resolve

from .webhooks import URL_PREFIX

NAMESPACE = "anymail"  # site_config/urls.py includes the routes under it


class WebhookShortcutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/" + URL_PREFIX

    def __call__(self, request):
        path = request.path_info
        if path.startswith(self.prefix):
            match = _webhook_route(get_urlconf() or settings.ROOT_URLCONF, path)
            if match is not None:
                request.resolver_match = match
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)


# A walk of the whole URLconf was a tenth of a webhook request's CPU; the few
# webhook paths resolve to the same match every time.
@lru_cache(maxsize=64)
def _webhook_route(urlconf: str, path: str):
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    return match if NAMESPACE in match.namespaces else None


@receiver(setting_changed)
def _forget_routes(**kwargs) -> None:
    _webhook_route.cache_clear()  # tests that swap the URLconf or WEBHOOK_ESPS
