"""Public subscribe pages: the hosted form (also the target of embedded forms and
subscribe pages), the double opt-in confirmation."""

from urllib.parse import urlsplit

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.throttling import client_ip

from . import subscribe
from .models import Consent, SubscribePage
from .subscribe import Origin, Visitor
from .subscribe_forms import SubscribeForm


def in_visitor_language(view):
    # Outside i18n_patterns: the visitor's browser (or cookie) picks the language.
    def wrapped(request, *args, **kwargs):
        with translation.override(translation.get_language_from_request(request)):
            return view(request, *args, **kwargs)

    return wrapped


# Forms embedded on other sites post here cross-site, without a CSRF token. The
# worst a forged post can do is one unconfirmed subscription and one email, both
# throttled per IP and per address; a honeypot turns most bots away.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
@in_visitor_language
def subscribe_view(request, token: str):
    settings = subscribe.form_by_key(token)
    if settings is None:
        raise Http404
    if request.method == "GET":
        form = SubscribeForm(consent_text=settings.consent_text)
        return _form_page(request, settings, form)
    form = SubscribeForm(request.POST, consent_text=settings.consent_text)
    if form.is_bot:
        return _thanks(request, settings)
    if not form.is_valid():
        return _form_page(request, settings, form, status=400)
    email = form.cleaned_data["email"]
    if subscribe.is_throttled(client_ip(request), email):
        return render(request, "mailing/subscribe_throttled.html", status=429)
    subscribe.hand_over(
        settings,
        email,
        form.cleaned_data["name"],
        _visitor(request),
        _origin(request, settings, form.cleaned_data.get("page")),
    )
    return _thanks(request, settings)


def _form_page(request, settings, form, status=200):
    context = {"settings": settings, "form": form}
    return render(request, "mailing/subscribe_form.html", context, status=status)


def _thanks(request, settings):
    if settings.redirect_url:
        return HttpResponseRedirect(settings.redirect_url, status=303)
    return render(request, "mailing/subscribe_thanks.html", {"settings": settings})


def _visitor(request) -> Visitor:
    return Visitor.of(request)


def _origin(request, settings, page_id: int | None) -> Origin:
    """A live subscribe page of this list, or the hosted form (with the site an
    embedded form was posted from, when the browser says)."""
    if page_id:
        page = SubscribePage.objects.live().filter(
            pk=page_id, mailing_list_id=settings.mailing_list_id
        )
        if page.exists():
            return Origin(Consent.Source.PAGE, f"page:{page_id}")
    detail = f"form:{settings.key}"
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    if referer.netloc and referer.netloc != request.get_host():
        detail = f"{detail} on {referer.scheme}://{referer.netloc}"
    return Origin(Consent.Source.FORM, detail)


@never_cache
@require_http_methods(["GET", "POST"])
@in_visitor_language
def confirm_subscription(request, token: str):
    """GET shows what is confirmed (mail scanners follow links); POST confirms."""
    try:
        consent = subscribe.read_confirm_token(token)
    except subscribe.UsedConfirmation:
        return _refused(request, "used")
    except subscribe.ExpiredConfirmation:
        return _refused(request, "expired")
    except subscribe.InvalidConfirmation:
        return _refused(request, "invalid", status=404)
    context = {"mailing_list": consent.subscription.mailing_list}
    if request.method == "POST":
        if not subscribe.confirm(consent):
            return _refused(request, "used")
        return render(request, "mailing/subscribe_confirmed.html", context)
    return render(request, "mailing/subscribe_confirm.html", context)


def _refused(request, reason: str, status: int = 410):
    context = {"reason": reason}
    return render(request, "mailing/subscribe_refused.html", context, status=status)
