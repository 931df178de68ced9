"""The double opt-in email: one link to confirm, sent from the site's address.

It goes out in the language the visitor used on the form, and names the list and
its owner so the person knows what they would join.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from accounts.emails import new_message_id

from .models import Consent
from .subscribe import confirm_url


def send_confirmation(consent_id: int, language: str) -> None:
    consent = (
        Consent.objects.select_related(
            "subscription__client", "subscription__mailing_list"
        )
        .filter(pk=consent_id, confirmed_at__isnull=True)
        .first()
    )
    if consent is None:  # confirmed meanwhile, or the client erased
        return
    subscription = consent.subscription
    context = {
        "list_name": subscription.mailing_list.name,
        "link": confirm_url(consent),
        "site_name": settings.WAGTAIL_SITE_NAME,
    }
    with translation.override(language):
        subject = render_to_string(
            "mailing/email/confirm_subscription.subject.txt", context
        )
        text = render_to_string("mailing/email/confirm_subscription.txt", context)
        html = render_to_string("mailing/email/confirm_subscription.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[subscription.client.email],
        headers={"Message-ID": new_message_id()},
    )
    email.attach_alternative(html, "text/html")
    email.send()
