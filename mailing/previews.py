"""The message editor's preview panel: the email as sent, its text part, its spam
score. Wagtail shows each mode at mobile and desktop widths, from the unsaved
form, before any mailing exists."""

from email.utils import formataddr

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import translation

from accounts.emails import new_message_id

from . import spam
from .rendering import PreparedMessage, prepare_message
from .sending.mime import list_id, mailing_headers
from .unsubscribe import sender_domain, unsubscribe_mailto, unsubscribe_url

PREVIEW_UNSUBSCRIBE_URL = "#unsubscribe-preview"
# The email is shown as it is: no script runs, images load from anywhere (BASE_URL
# may be another host than the admin's), inline styles are the email's own.
EMAIL_POLICY = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def _reader(request) -> tuple[str, str]:
    user = request.user
    return (user.get_full_name() or user.email, user.email)


def sample_message(
    prepared: PreparedMessage, full_name: str, email: str, token: str, list_key=None
):
    """The email as a recipient gets it, with the headers a mailing's email has
    (sending.mime), though a draft has no mailing or recipients yet: the spam
    check's sample and the test send. `list_key`: the mailing's id, when there is
    one, for its List-Id; `token` stands in for a recipient's unsubscribe token."""
    from .sending.pipeline import build_message

    rendered = prepared.render(full_name or email, email, unsubscribe_url(token))
    message = build_message(
        rendered, prepared.from_email, formataddr((full_name, email)), prepared.reply_to
    )
    unsubscribe = f"<{unsubscribe_url(token)}>, <{unsubscribe_mailto(token)}>"
    the_list = list_id(list_key or token, sender_domain())
    message.extra_headers.update(
        mailing_headers(the_list, unsubscribe, new_message_id())
    )
    return message


def sample_email(prepared: PreparedMessage, full_name: str, email: str) -> bytes:
    """The spam check's sample, as bytes."""
    return sample_message(prepared, full_name, email, "preview").message().as_bytes()


def editor_language(request) -> str:
    """The admin's language for the editor (the email keeps its layout's)."""
    profile = getattr(request.user, "wagtail_userprofile", None)
    return profile.get_preferred_language() if profile else translation.get_language()


def serve_message_preview(message, request, mode: str):
    with translation.override(editor_language(request)):
        response = _preview(message, request, mode)
        if hasattr(response, "render"):
            response.render()
    response.headers["Content-Security-Policy"] = EMAIL_POLICY
    return response


def _preview(message, request, mode: str):
    prepared = prepare_message(message)
    name, email = _reader(request)
    if mode == "spam":
        response = TemplateResponse(
            request,
            "mailing/admin/preview_spam.html",
            {"report": spam.check(sample_email(prepared, name, email))},
        )
    elif mode == "text":
        rendered = prepared.render(name, email, PREVIEW_UNSUBSCRIBE_URL)
        response = TemplateResponse(
            request,
            "mailing/admin/preview_text.html",
            {"email": rendered, "prepared": prepared, "to": email},
        )
    else:
        rendered = prepared.render(name, email, PREVIEW_UNSUBSCRIBE_URL)
        response = HttpResponse(rendered.html)
    return response


def serve_layout_preview(layout, request):
    """The layout being edited around the sample letter in its language."""
    from .models import Message
    from .samples import sample_letter

    subject, html_body = sample_letter(layout.language)
    owner = layout.owner if layout.owner_id else request.user
    message = Message(owner=owner, subject=subject, body="", html_body=html_body)
    name, email = _reader(request)
    rendered = prepare_message(message, layout).render(
        name, email, PREVIEW_UNSUBSCRIBE_URL
    )
    response = HttpResponse(rendered.html)
    response.headers["Content-Security-Policy"] = EMAIL_POLICY
    return response
