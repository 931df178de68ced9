"""The open pixel and click redirects in sent emails (mailing.tracking)."""

import base64

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from . import tokens
from .models import Event
from .tracking import head_came_first, link_target, note_head, record_hit

# A transparent 1x1 GIF.
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@require_http_methods(["GET", "HEAD"])
def open_pixel(request, token: str):
    """Always the image, whatever the token: a broken image tells nobody anything."""
    attempt_id = tokens.read_attempt_token(token)
    if attempt_id is not None and request.method == "GET":
        record_hit(attempt_id, Event.Kind.OPENED, request)
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store, max-age=0"
    return response


@require_http_methods(["GET", "HEAD"])
def click(request, token: str, link_id: int):
    target = link_target(token, link_id)
    if target is None:
        raise Http404("No such link in a sent email.")
    attempt_id, url = target
    if request.method == "GET":
        head_first = head_came_first(attempt_id, link_id)
        record_hit(attempt_id, Event.Kind.CLICKED, request, url, head_first)
    else:
        note_head(attempt_id, link_id)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    return response
