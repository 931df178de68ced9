"""Error pages that say why, where saying why is safe.

Django's 400 page shows no reason on purpose: an exception's text may carry secrets.
`Refused` is a 400 whose message is written for the person who sent the request
(a malformed field, say), so the page shows it.
"""

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import csrf, defaults


class Refused(BadRequest):
    """Bad input, with a message meant for its sender (translated, no secrets).

    It remembers the language it was written in (the Wagtail admin speaks each
    user's own), so that the page around it speaks the same."""

    def __init__(self, message: str):
        super().__init__(message)
        self.language = translation.get_language()


def too_large_reason() -> str:
    """Why a body over Django's upload limit was refused: no typo to look for."""
    limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return _("The request is too large: send at most %(limit)s at once.") % {
        "limit": limit
    }


# Where clients read JSON: Vestnik's API (/api/v1/) and Wagtail's pages API (/api/v2/).
API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def api_error(request: HttpRequest, code: str, message, status: int) -> JsonResponse:
    """The API's error shape (mailing.api.errors) for an answer no API view gave,
    in its clients' Accept-Language as the API's views speak (mailing.api.base),
    not the site's default language of an address with no language prefix."""
    with translation.override(translation.get_language_from_request(request)):
        return JsonResponse(
            {"code": code, "message": str(message)},
            status=status,
            json_dumps_params={"ensure_ascii": False},  # as DRF writes it
        )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        # No route (an id with a dot, an unknown resource): the API's own 404,
        # not Django's HTML page to a client reading JSON.
        from rest_framework.exceptions import NotFound

        return api_error(request, "not_found", NotFound.default_detail, 404)
    return defaults.page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api(request):
        # Every API view is exempt (DRF checks a session's CSRF itself), so the
        # check failed on an address no API view serves: that address's 404, not
        # the HTML page of a web form that expired.
        from rest_framework.exceptions import NotFound

        return api_error(request, "not_found", NotFound.default_detail, 404)
    return csrf.csrf_failure(request, reason)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        from rest_framework.exceptions import APIException

        return api_error(request, "error", APIException.default_detail, 500)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    api = is_api(request)
    if api:
        language = translation.get_language_from_request(request)
    else:
        language = getattr(exception, "language", None) or translation.get_language()
    with translation.override(language):
        reason = str(exception) if isinstance(exception, Refused) else ""
        if isinstance(exception, RequestDataTooBig):
            reason = too_large_reason()
        if api:
            # Not an HTML page: a 400 raised before any API view (a NUL in the
            # address) reached clients reading JSON as a page.
            message = reason or _("The request is not valid.")
            return api_error(request, "bad_request", message, 400)
        body = render_to_string("400.html", {"reason": reason}, request=request)
    return HttpResponse(body, status=400)


class RefuseNulMiddleware:
    """A NUL (%00) in the address is a 400 that says so, before any view looks it
    up: PostgreSQL refuses NUL in every text parameter, so each view that queried
    a path or query value (a subscribe form's key, a blog tag, Wagtail's API
    search and locale, chooser and bulk-action ids) failed with a 500 on it. No
    address of the site has one; the middleware only looks, it costs no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            # Lazy: the API answers in its own client's language (bad_request).
            raise Refused(gettext_lazy("The address contains a NUL character."))
        return self.get_response(request)
