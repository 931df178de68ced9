"""Public views of the mailing app: unsubscribing from a link in an email."""

from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import Client
from .unsubscribe import read_token, unsubscribe_client


# The signed token is the authentication, and RFC 8058 one-click POSTs from mail
# providers carry no cookie or CSRF token: CSRF protection cannot apply here.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks (link scanners follow links); POST unsubscribes, one-click too."""
    # Outside i18n_patterns LocaleMiddleware always picks the default language; the
    # link in an email has no language, so the reader's browser (or cookie) decides.
    language = translation.get_language_from_request(request)
    with translation.override(language):
        return _unsubscribe(request, token)


def _unsubscribe(request, token: str):
    client_id = read_token(token)
    client = Client.objects.filter(pk=client_id).first() if client_id else None
    if client is None:
        return render(request, "mailing/unsubscribe_invalid.html", status=404)
    if request.method == "POST":
        unsubscribe_client(client.pk)
        return render(request, "mailing/unsubscribe_done.html", {"client": client})
    return render(request, "mailing/unsubscribe_confirm.html", {"client": client})
