from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

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
