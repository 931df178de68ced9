"""A run's email as it was sent, and where people read it again: each recipient's
"view in browser" page and the public archive of the mailing's issues.

The email is kept on the run when it opens (`MailingRun.content`): a message
edited later, or a digest built from that day's posts, still shows that run's email.
The web version link is signed per recipient (run and client) like the unsubscribe
link: it cannot be guessed or changed into another's, and nothing is recorded
when it is opened.
"""

from dataclasses import asdict

from django.conf import settings
from django.core import signing
from django.db.models import Max
from django.urls import reverse
from django.utils import translation
from django.utils.translation import pgettext

from .models import Client, Mailing, MailingRun
from .rendering import PreparedMessage, prepare_message, single_line
from .unsubscribe import make_token, unsubscribe_url

WEB_VERSION_SALT = "mailing.web_version"
# What a browser may do with a stored email: its inline styles and images, nothing
# else (no script, no form, no plugin); the site's CSP forbids inline styles.
EMAIL_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def snapshot(prepared: PreparedMessage) -> dict:
    return asdict(prepared)


def prepared_for(run: MailingRun) -> PreparedMessage:
    """The run's email as kept when it opened (older runs: the message as it is)."""
    if run.content:
        content = dict(run.content)
        content["web_link"] = tuple(content.get("web_link") or ("", "", ""))
        return PreparedMessage(**content)
    return prepare_message(run.mailing.message)


# --- The web version: one recipient's copy --------------------------------------


def web_version_token(run_id: int, client_id: int) -> str:
    return signing.dumps([run_id, client_id], salt=WEB_VERSION_SALT, compress=False)


def read_web_version_token(token: str) -> tuple[int, int] | None:
    try:
        value = signing.loads(token, salt=WEB_VERSION_SALT)
    except signing.BadSignature:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(type(part) is int for part in value)
    ):
        return value[0], value[1]
    return None


def web_version_url(token: str) -> str:
    return settings.BASE_URL + reverse("mailing:web_version", args=[token])


def web_version_html(token: str) -> str | None:
    """The recipient's own email for a valid link, else None (the view's 404)."""
    ids = read_web_version_token(token)
    if ids is None:
        return None
    run = MailingRun.objects.select_related("mailing__message").filter(pk=ids[0])
    run = run.first()
    client = Client.objects.filter(pk=ids[1]).first()
    # The signature proves the pair was made by us; the ownership check keeps a
    # client moved or re-used elsewhere from ever seeing another owner's mail.
    if run is None or client is None or client.owner_id != run.mailing.owner_id:
        return None
    personal_unsubscribe = unsubscribe_url(make_token(client.pk))
    return prepared_for(run).html_for(
        client.full_name, client.email, personal_unsubscribe
    )


# --- The public archive: nobody's copy ----------------------------------------------


def archived_mailings():
    """Mailings whose owners opted in and may still send, with a sent issue."""
    return (
        Mailing.objects.filter(
            public_archive=True,
            owner__is_active=True,
            owner__is_blocked=False,
            runs__status=MailingRun.Status.FINISHED,
            runs__sent_count__gt=0,
        )
        .annotate(latest=Max("runs__slot"))
        .order_by("-latest", "pk")
    )


def archived_runs(mailing_id: int):
    """The issues the public may read: sent runs of a mailing opted in, newest first."""
    return (
        MailingRun.objects.filter(
            mailing_id=mailing_id,
            mailing__in=archived_mailings().values("pk"),
            status=MailingRun.Status.FINISHED,
            sent_count__gt=0,
        )
        .select_related("mailing__message", "mailing__owner")
        .order_by("-slot", "-pk")
    )


def _reader(run: MailingRun) -> str:
    # In the email's language (its owner's), whatever the visitor's.
    with translation.override(run.mailing.owner.language):
        return pgettext("the name in an archived email", "reader")


def archive_subject(run: MailingRun) -> str:
    return single_line(prepared_for(run).subject_for(_reader(run), "", ""))


def archive_html(run: MailingRun, unsubscribe_link: str) -> str:
    """The issue as nobody's email: a neutral greeting, no address, no token."""
    return prepared_for(run).html_for(_reader(run), "", unsubscribe_link)
