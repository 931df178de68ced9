"""Public views of the mailing app: links in emails (unsubscribe, confirm a sender,
view in browser)."""

import functools

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import list_unsubscribe, preferences
from .issues import EMAIL_PAGE_POLICY, web_version_html
from .models import Client
from .senders import InvalidConfirmation, confirm_identity, read_confirmation_token
from .subscribe import Visitor
from .unsubscribe import make_token, read_token, unsubscribe_client, unsubscribe_url


def in_readers_language(view):
    """Outside i18n_patterns LocaleMiddleware always picks the default language; a
    link in an email has no language, so the reader's browser (or cookie) decides."""

    @functools.wraps(view)
    def in_language(request, *args, **kwargs):
        with translation.override(translation.get_language_from_request(request)):
            return view(request, *args, **kwargs)

    return in_language


# The signed token is the authentication, and RFC 8058 one-click POSTs from mail
# providers carry no cookie or CSRF token: CSRF protection cannot apply here.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@in_readers_language
def unsubscribe(request, token: str):
    """GET asks (link scanners follow links); POST unsubscribes, one-click too."""
    return _unsubscribe(request, token)


def _unsubscribe(request, token: str):
    client_id = read_token(token)
    client = Client.objects.filter(pk=client_id).first() if client_id else None
    if client is None:
        return render(request, "mailing/unsubscribe_invalid.html", status=404)
    if request.method == "POST" and request.POST.get("action") == "save":
        wanted = {int(pk) for pk in request.POST.getlist("lists") if pk.isdecimal()}
        visitor = Visitor.of(request)
        preferences.save_choices(client, wanted, visitor)
        return _preference_page(request, client, saved=True)
    if request.method == "POST":  # the page's button, or an RFC 8058 one-click
        unsubscribe_client(client.pk)
        return render(request, "mailing/unsubscribe_done.html", {"client": client})
    return _preference_page(request, client)


def _preference_page(request, client: Client, saved: bool = False):
    """The email's unsubscribe link leads here: the client's lists of that owner."""
    client.refresh_from_db()
    context = {
        "client": client,
        "subscriptions": preferences.subscriptions_of(client),
        "opted_out": preferences.is_opted_out(client),
        "saved": saved,
    }
    return render(request, "mailing/unsubscribe_confirm.html", context)


# The signed token is the key; no one-click POST comes here (List-Unsubscribe is
# the global link), so the page's form carries a CSRF token like any other.
@require_http_methods(["GET", "POST"])
@in_readers_language
def unsubscribe_list(request, token: str):
    """GET asks which lists (scanners follow links); POST leaves those lists only."""
    return _unsubscribe_list(request, token)


def _unsubscribe_list(request, token: str):
    found = list_unsubscribe.read_token(token)
    client = Client.objects.filter(pk=found[0]).first() if found else None
    if client is None:
        return render(request, "mailing/unsubscribe_invalid.html", status=404)
    list_ids = found[1]
    context = {
        "client": client,
        "preferences_url": unsubscribe_url(make_token(client.pk)),
    }
    if request.method == "POST":
        names = [s.mailing_list.name for s in _leaving(client, list_ids)]
        list_unsubscribe.leave_lists(client, list_ids)
        return render(
            request, "mailing/unsubscribe_list_done.html", {**context, "left": names}
        )
    context["leaving"] = _leaving(client, list_ids)
    return render(request, "mailing/unsubscribe_list.html", context)


def _leaving(client: Client, list_ids: list[int]) -> list:
    rows = list_unsubscribe.subscriptions_to_leave(client, list_ids)
    return list(rows.select_related("mailing_list").order_by("mailing_list__name"))


@login_required
@require_http_methods(["GET", "POST"])
def confirm_sender(request, token: str):
    """GET shows what is confirmed (mail scanners follow links); POST confirms.

    Only the identity's owner, signed in, may confirm: the mailbox and the account
    must belong to one person.
    """
    with translation.override(request.user.language):
        return _confirm_sender(request, token)


def _confirm_sender(request, token: str):
    try:
        identity = read_confirmation_token(token)
        if identity.owner_id != request.user.pk:
            raise InvalidConfirmation
    except InvalidConfirmation:
        return render(request, "mailing/sender_invalid.html", status=400)
    if request.method == "POST":
        confirm_identity(identity, request.user)
        identity.refresh_from_db()
        return render(request, "mailing/sender_confirmed.html", {"identity": identity})
    return render(request, "mailing/sender_confirm.html", {"identity": identity})


@require_http_methods(["GET", "HEAD"])
def web_version(request, token: str):
    """One recipient's email of one run, by its signed link; nothing is recorded."""
    document = web_version_html(token)
    if document is None:
        raise Http404
    return email_page(document)


def email_page(document: str) -> HttpResponse:
    """A stored email as a page of its own: its inline styles, no script, unindexed."""
    response = HttpResponse(document)
    response["Content-Security-Policy"] = EMAIL_PAGE_POLICY
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
