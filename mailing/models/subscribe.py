"""Public subscribe forms and the consent they collect (issue 12).

A list's form has its own settings and an unguessable key that names it in its
public address (never the list's pk). Each request through a form, page, API call
or the preference page leaves a Consent row: when, from where, the exact text shown.
The rows outlive status changes of their subscription; the double opt-in link names
one of them and is used once (`confirmed_at`).
"""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .audiences import MailingList, Subscription
from .ownership import OwnedQuerySet, single_line


def new_form_key() -> str:
    return secrets.token_urlsafe(16)


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


class SubscribeFormQuerySet(OwnedQuerySet):
    owner_lookup = "mailing_list__owner"


class SubscribeForm(models.Model):
    mailing_list = models.OneToOneField(
        MailingList,
        on_delete=models.CASCADE,
        related_name="subscribe_form",
        verbose_name=_("list"),
    )
    key = models.CharField(
        _("public key"), max_length=32, unique=True, default=new_form_key
    )
    is_enabled = models.BooleanField(_("form enabled"), default=False)
    title = models.CharField(_("title"), max_length=255, validators=[single_line])
    intro = models.TextField(_("text above the form"), blank=True)
    consent_text = models.TextField(
        _("consent text"),
        blank=True,
        help_text=_(
            "When set, the visitor must tick a box with this text; the text shown is "
            "kept with each subscription."
        ),
    )
    double_opt_in = models.BooleanField(
        _("double opt-in"),
        default=True,
        help_text=_("Subscribe only after the visitor confirms from an email."),
    )
    thanks_text = models.TextField(_("thank-you text"), blank=True)
    redirect_url = models.URLField(
        _("redirect after subscribing"),
        blank=True,
        help_text=_("Leave empty to show the thank-you text."),
    )

    objects = SubscribeFormQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscribe form")
        verbose_name_plural = _("subscribe forms")

    def __str__(self):
        return self.title


class Consent(models.Model):
    class Source(models.TextChoices):
        FORM = "form", pgettext_lazy("consent source", "Hosted form")
        PAGE = "page", pgettext_lazy("consent source", "Site page")
        API = "api", pgettext_lazy("consent source", "API")
        PREFERENCES = "preferences", pgettext_lazy("consent source", "Preference page")

    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.CASCADE,
        related_name="consents",
        verbose_name=_("subscription"),
    )
    given_at = models.DateTimeField(_("given at"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    # Which form, page or API token: e.g. "form:<key>", "page:12".
    source_detail = models.CharField(_("source detail"), max_length=255, blank=True)
    consent_text = models.TextField(_("consent text shown"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    # This request brought a new client into being: until a consent of theirs is
    # confirmed, they are nobody's audience (see audiences.audience_of).
    created_client = models.BooleanField(default=False, editable=False)
    confirm_nonce = models.CharField(max_length=32, default=new_nonce, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["given_at"]

    def __str__(self):
        return f"{self.subscription} · {self.given_at:%Y-%m-%d %H:%M}"
