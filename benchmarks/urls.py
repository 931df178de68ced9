from django.http import HttpResponse
from django.urls import path

from site_config.urls import urlpatterns as site_urlpatterns


def ok(request):
    """The floor: the whole middleware chain and routing, no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ok/", ok), *site_urlpatterns]
