from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.fields import RichTextField

from ..rendering import sanitise_rich_text
from .ownership import OwnedQuerySet, no_line_breaks


class Message(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("owner"),
    )
    subject = models.CharField(
        _("subject"), max_length=255, validators=[no_line_breaks]
    )
    body = models.TextField(_("plain-text body"))
    html_body = RichTextField(_("HTML body"), blank=True)
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

    def __str__(self):
        return self.subject
