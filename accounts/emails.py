"""Account emails: HTML with a plain-text part, in the recipient's language.

Each `send_*` function takes primary keys and plain values, builds its links when
it runs (in the Huey consumer) and raises when the mail server refuses, so the
task is retried.
"""

import logging
import smtplib
from email.utils import make_msgid, parseaddr

from anymail.exceptions import AnymailError
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .links import EMAIL_CHANGE_SALT, VERIFY_SALT, make_token
from .models import User

logger = logging.getLogger(__name__)

# What a mail server or an ESP raises when it is down or refuses.
MAIL_ERRORS = (smtplib.SMTPException, OSError, AnymailError)


def absolute_url(viewname: str, language: str, **kwargs) -> str:
    """A link for an email: BASE_URL plus the path in the reader's language."""
    with translation.override(language):
        return settings.BASE_URL + reverse(viewname, kwargs=kwargs)


def new_message_id() -> str:
    """A Message-ID at the domain we send from. Django's default names the machine
    (socket.getfqdn(): "localhost" or a container's id in production), which is
    not ours: seen in the emails an SMTP server received."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return make_msgid(domain=domain or None)


def send_account_email(to: str, template: str, language: str, context: dict) -> None:
    """Render accounts/email/<template>.{subject.txt,txt,html} and send it."""
    with translation.override(language):
        context = {**context, "site_name": settings.WAGTAIL_SITE_NAME}
        subject = render_to_string(f"accounts/email/{template}.subject.txt", context)
        text = render_to_string(f"accounts/email/{template}.txt", context)
        html = render_to_string(f"accounts/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[to],
        headers={"Message-ID": new_message_id()},
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except MAIL_ERRORS as error:
        logger.warning("Could not send the %s email: %r", template, error)
        raise


def _user(user_id: int) -> User | None:
    # Deleted before the consumer got to it: nothing to send, nothing to retry.
    return User.objects.filter(pk=user_id).first()


def send_verification_email(user_id: int) -> None:
    if (user := _user(user_id)) is None or user.email_verified_at is not None:
        return
    token = make_token(user, VERIFY_SALT)
    link = absolute_url("accounts:verify_email", user.language, token=token)
    send_account_email(user.email, "verify_email", user.language, {"link": link})


def send_existing_account_email(user_id: int) -> None:
    if (user := _user(user_id)) is None:
        return
    context = {
        "login_link": absolute_url("accounts:login", user.language),
        "reset_link": absolute_url("accounts:password_reset", user.language),
    }
    send_account_email(user.email, "existing_account", user.language, context)


def send_email_change_link(user_id: int, new_email: str) -> None:
    if (user := _user(user_id)) is None:
        return
    token = make_token(user, EMAIL_CHANGE_SALT, e=new_email)
    link = absolute_url("accounts:confirm_email_change", user.language, token=token)
    context = {"link": link, "old_email": user.email, "new_email": new_email}
    send_account_email(new_email, "change_email", user.language, context)


def send_password_reset_email(user_id: int) -> None:
    if (user := _user(user_id)) is None or user.is_blocked:
        return
    link = absolute_url(
        "accounts:password_reset_confirm",
        user.language,
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )
    send_account_email(user.email, "password_reset", user.language, {"link": link})


def mask_email(email: str) -> str:
    """x***@domain: enough for the owner to recognise, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def send_email_changed_notice(user_id: int, old_email: str) -> None:
    if (user := _user(user_id)) is None:
        return
    context = {
        "masked_email": mask_email(user.email),
        "login_link": absolute_url("accounts:login", user.language),
        "support_email": settings.SUPPORT_EMAIL,
    }
    send_account_email(old_email, "email_changed", user.language, context)
