from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.fields import RichTextField
from wagtail.models import PreviewableMixin

from ..rendering import sanitise_rich_text
from .layouts import EmailLayout
from .ownership import OwnedQuerySet, single_line
from .senders import SenderIdentity


class Message(PreviewableMixin, models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("owner"),
    )
    subject = models.CharField(_("subject"), max_length=255, validators=[single_line])
    body = models.TextField(
        _("plain-text body"),
        blank=True,
        help_text=_("Empty: made from the HTML body, with its links listed."),
    )
    # What mail clients render alike: no media embeds, no tables.
    html_body = RichTextField(
        _("HTML body"),
        blank=True,
        features=[
            "h2",
            "h3",
            "bold",
            "italic",
            "ol",
            "ul",
            "hr",
            "link",
            "document-link",
            "image",
        ],  # fmt: skip
    )
    layout = models.ForeignKey(
        EmailLayout,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("layout"),
        help_text=_("Empty: the shared layout in your language."),
    )
    sender = models.ForeignKey(
        SenderIdentity,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("sender"),
        help_text=_("Only confirmed sender identities. Empty: the site's address."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "created_at"])]

    def save(self, *args, **kwargs):
        self.html_body = sanitise_rich_text(self.html_body)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not (self.body.strip() or self.html_body.strip()):
            raise ValidationError(_("Write a plain-text body, an HTML body or both."))
        if self.sender_id is not None and not (
            SenderIdentity.objects.usable_by(self.owner_id)
            .filter(pk=self.sender_id)
            .exists()
        ):
            raise ValidationError(
                {"sender": _("Choose one of your confirmed sender identities.")}
            )
        if self.layout_id is not None and not (
            EmailLayout.objects.filter(pk=self.layout_id)
            .filter(models.Q(owner__isnull=True) | models.Q(owner_id=self.owner_id))
            .exists()
        ):
            raise ValidationError({"layout": _("Choose one of your layouts.")})

    def __str__(self):
        return self.subject

    # --- Preview in the editor (Wagtail's preview panel: mobile and desktop) ---

    @property
    def preview_modes(self):
        return [
            ("", pgettext_lazy("preview mode", "Email")),
            ("text", _("Plain text")),
            ("spam", _("Spam check")),
        ]

    def serve_preview(self, request, mode_name):
        from ..previews import serve_message_preview

        return serve_message_preview(self, request, mode_name)
