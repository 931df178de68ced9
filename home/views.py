from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.translation import get_supported_language_variant
from django.views import i18n
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from .translations import address_in

ROBOTS = """User-agent: *
Disallow: /admin/
Disallow: /accounts/
Disallow: /en/accounts/
Sitemap: {base}/sitemap.xml
"""


@require_safe
@cache_control(max_age=3600, public=True)
def robots_txt(request):
    base = settings.BASE_URL or request.build_absolute_uri("/").rstrip("/")
    return HttpResponse(ROBOTS.format(base=base), content_type="text/plain")


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico whatever a page links; the file lives with the
    static files (a hashed name in production), so a redirect rather than a copy."""
    return redirect(static("favicon.ico"))


def set_language(request):
    """Django's language form for any spelling of a language we serve (en-us, EN,
    en_US): Django took each as a language of its own, a /en-us/ address that is a
    404. It lands on the page's translation; an unknown code changes nothing."""
    data = request.POST.copy()
    code = served_language(data.pop(i18n.LANGUAGE_QUERY_PARAMETER, [""])[-1])
    request.POST = data
    # Django's own checks of the next address (same host, else the Referer).
    unchanged = i18n.set_language(request)
    if request.method != "POST" or code is None:
        return unchanged
    data[i18n.LANGUAGE_QUERY_PARAMETER] = code
    response = i18n.set_language(request)  # sets the language cookie
    if unchanged.has_header("Location"):
        response["Location"] = address_in(request, unchanged["Location"], code)
    return response


def served_language(code: str) -> str | None:
    """The LANGUAGES code `code` names in any case or separator, or None."""
    try:
        return get_supported_language_variant(code.replace("_", "-").lower())
    except LookupError:
        return None
