"""Account emails: HTML with a plain-text part, in the recipient's language."""

import logging
import smtplib

from anymail.exceptions import AnymailError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

logger = logging.getLogger(__name__)


def absolute_url(viewname: str, language: str, **kwargs) -> str:
    """A link for an email: BASE_URL plus the path in the reader's language."""
    with translation.override(language):
        return settings.BASE_URL + reverse(viewname, kwargs=kwargs)


def send_account_email(to: str, template: str, language: str, context: dict) -> bool:
    """Render accounts/email/<template>.{subject.txt,txt,html} and send it.

    Returns False when the mail server refused: the caller's page stays the same
    (no account enumeration) and the person can ask for the email again.
    """
    with translation.override(language):
        context = {**context, "site_name": settings.WAGTAIL_SITE_NAME}
        subject = render_to_string(f"accounts/email/{template}.subject.txt", context)
        text = render_to_string(f"accounts/email/{template}.txt", context)
        html = render_to_string(f"accounts/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[to]
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError, AnymailError):
        logger.exception("Could not send the %s email", template)
        return False
    return True
