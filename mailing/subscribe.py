"""Subscribing through a public form, page or the API, with double opt-in (issue 12).

Whoever asks gets the same answer whatever the address: known, unknown, already
subscribed or suppressed. What differs happens out of sight: a suppressed or
globally unsubscribed address gets nothing, a new one an unconfirmed subscription
and one email (sent by a task, so the answer never waits on SMTP). The confirm link
is signed, expires, and names one Consent row whose `confirmed_at` makes it
single-use.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.throttling import Attempt, Throttle, client_ip, reserve

from . import audiences, suppression
from .models import Client, Consent, MailingList, SubscribeForm, Subscription

Status = Subscription.Status
Source = Consent.Source
SUPPRESSED = "suppressed"

CONFIRM_SALT = "mailing.subscribe.confirm"
CONFIRM_MAX_AGE = 3 * 24 * 3600  # the email says so: 3 days
# A person and a shared office NAT stay far below this; a script hammering the form
# does not. Counted per IP and per address in the cache (Redis in production).
REQUESTS = Throttle("subscribe", max_per_ip=30, max_per_account=10)
# Confirmation emails: someone waiting asks again, maybe twice; more only fills a
# stranger's inbox.
EMAILS = Throttle(
    "subscribe-emails", max_per_ip=20, max_per_account=3, window_seconds=3600
)


@dataclass(frozen=True)
class Visitor:
    """Who is asking, as the request shows it (kept in the consent record)."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request) -> "Visitor":
        """From a Django request (or DRF's, which hands META through)."""
        agent = request.META.get("HTTP_USER_AGENT", "")
        return cls(ip=client_ip(request) or None, user_agent=agent)


@dataclass(frozen=True)
class Origin:
    """Where the request came through: a Consent.Source and which one."""

    source: str
    detail: str = ""


class InvalidConfirmation(Exception):
    """The link is tampered with or for nothing that exists."""


class ExpiredConfirmation(InvalidConfirmation):
    pass


class UsedConfirmation(InvalidConfirmation):
    pass


def form_by_key(key: str) -> SubscribeForm | None:
    return (
        SubscribeForm.objects.filter(key=key, is_enabled=True)
        .select_related("mailing_list")
        .first()
    )


def open_form(list_id: int | None) -> SubscribeForm | None:
    if list_id is None:
        return None
    return SubscribeForm.objects.filter(
        mailing_list_id=list_id, is_enabled=True
    ).first()


def form_settings_for(mailing_list: MailingList) -> SubscribeForm:
    """The list's form settings, a disabled form titled after it when new."""
    form, _created = SubscribeForm.objects.get_or_create(
        mailing_list=mailing_list, defaults={"title": mailing_list.name[:255]}
    )
    return form


def hosted_url(form: SubscribeForm) -> str:
    return settings.BASE_URL + reverse("mailing:subscribe", args=[form.key])


def is_throttled(ip: str, email: str) -> bool:
    """Count this request; True when the IP or the address asked too often."""
    key = f"email:{suppression.normalised(email).lower()}"
    return reserve(Attempt(REQUESTS, ip or "", key)) is not None


@dataclass(frozen=True)
class Request:
    """One request to join a list, whoever makes it."""

    mailing_list: MailingList
    email: str
    name: str
    double_opt_in: bool
    consent_text: str
    visitor: Visitor
    origin: Origin


def hand_over(
    form: SubscribeForm, email: str, name: str, visitor: Visitor, origin: Origin
) -> None:
    """Queue the request: the visitor's answer then takes the same time whatever
    the address (the work that differs happens in the consumer). With the queue
    unreachable it is done now rather than lost. The consent text goes along as
    it was when the visitor agreed: the owner may change it meanwhile."""
    from redis.exceptions import RedisError

    from .tasks import handle_subscription_request

    args = (form.pk, email, name, visitor.ip, visitor.user_agent)
    args += (origin.source, origin.detail, form.consent_text)
    args += (translation.get_language(),)
    try:
        handle_subscription_request(*args)
    except (RedisError, OSError):
        handle_subscription_request.call_local(*args)


def handle_request(form_id: int, email: str, name: str, *details) -> None:
    """The queued request (see hand_over), if its form is still open. Returns
    nothing on purpose: nobody may learn what became of an address."""
    ip, agent, source, detail, consent_text, language = details
    form = SubscribeForm.objects.filter(pk=form_id, is_enabled=True)
    form = form.select_related("mailing_list").first()
    if form is None:
        return
    visitor, origin = Visitor(ip, agent), Origin(source, detail)
    request = Request(
        form.mailing_list,
        email,
        name,
        form.double_opt_in,
        consent_text,
        visitor,
        origin,
    )
    with translation.override(language):
        join(request)


def join(request: Request) -> str:
    """Carry out a request; what became of it: a subscription status, or
    "suppressed" for an address its owner may not mail (nothing done then)."""
    mailing_list = request.mailing_list
    email = suppression.normalised(request.email)
    digest = suppression.address_hash(email)
    if suppression.suppressed_hashes(mailing_list.owner_id, [digest]):
        return SUPPRESSED
    with transaction.atomic():
        client, created = _client_for(mailing_list.owner_id, email, request.name)
        if client.unsubscribed_at or client.suppressed_reason:
            return SUPPRESSED
        consent = record_consent(
            client,
            mailing_list,
            request.double_opt_in,
            request.visitor,
            request.origin,
            request.consent_text,
        )
        if consent is None:
            return Status.SUBSCRIBED
        if created:
            Consent.objects.filter(pk=consent.pk).update(created_client=True)
        if request.double_opt_in and _may_email(request.visitor, email):
            language = translation.get_language()
            transaction.on_commit(lambda: _queue_confirmation(consent.pk, language))
        return Status.UNCONFIRMED if request.double_opt_in else Status.SUBSCRIBED


def record_consent(
    client: Client,
    mailing_list: MailingList,
    needs_confirmation: bool,
    visitor: Visitor,
    origin: Origin,
    consent_text: str = "",
) -> Consent | None:
    """Join the list (unconfirmed until confirmed, or subscribed now) and keep the
    consent; None when the client is subscribed already (nothing to record).
    An unsubscribed row stays so until the person confirms."""
    initial = Status.UNCONFIRMED if needs_confirmation else Status.SUBSCRIBED
    subscription, new = audiences.join_list(client, mailing_list, initial)
    if subscription.status == Status.SUBSCRIBED and not new:
        return None
    now = timezone.now()
    consent = Consent.objects.create(
        subscription=subscription,
        given_at=now,
        source=origin.source,
        source_detail=origin.detail[:255],
        consent_text=consent_text,
        ip=visitor.ip or None,
        user_agent=visitor.user_agent[:512],
        confirmed_at=None if needs_confirmation else now,
    )
    if not needs_confirmation:
        audiences.change_status(_one(subscription), Status.SUBSCRIBED)
    return consent


def _client_for(owner_id: int, email: str, name: str) -> tuple[Client, bool]:
    found = Client.objects.filter(owner_id=owner_id, email__iexact=email).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            return Client.objects.create(
                owner_id=owner_id, email=email, full_name=name[:255]
            ), True
    except IntegrityError:  # the same address sent twice at once
        return Client.objects.get(owner_id=owner_id, email__iexact=email), False


def _may_email(visitor: Visitor, email: str) -> bool:
    key = f"email:{email.lower()}"
    return reserve(Attempt(EMAILS, visitor.ip or "", key)) is None


def _queue_confirmation(consent_id: int, language: str) -> None:
    from .tasks import send_subscription_confirmation

    send_subscription_confirmation(consent_id, language)


def _one(subscription: Subscription):
    return Subscription.objects.filter(pk=subscription.pk)


# --- The confirm link -------------------------------------------------------------


def make_confirm_token(consent: Consent) -> str:
    return signing.dumps(
        {"c": consent.pk, "n": consent.confirm_nonce}, salt=CONFIRM_SALT
    )


def confirm_url(consent: Consent) -> str:
    path = reverse("mailing:confirm_subscription", args=[make_confirm_token(consent)])
    return settings.BASE_URL + path


def read_confirm_token(token: str) -> Consent:
    """The consent the link names, if it still may be confirmed."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise ExpiredConfirmation from None
    except signing.BadSignature:
        raise InvalidConfirmation from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise InvalidConfirmation
    consent = (
        Consent.objects.select_related("subscription__mailing_list", "subscription")
        .filter(pk=data["c"], confirm_nonce=str(data.get("n", "")))
        .first()
    )
    if consent is None:
        raise InvalidConfirmation
    if consent.confirmed_at is not None:
        raise UsedConfirmation
    return consent


def confirm(consent: Consent) -> bool:
    """Use the link: the subscription becomes subscribed, the time recorded on the
    consent. False when another request used it first (the link is single-use)."""
    with transaction.atomic():
        used = Consent.objects.filter(pk=consent.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        if not used:
            return False
        audiences.change_status(_one(consent.subscription), Status.SUBSCRIBED)
    return True
