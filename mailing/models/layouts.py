from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.fields import StreamField
from wagtail.models import PreviewableMixin

from ..layout_blocks import LayoutBlock
from .ownership import OwnedQuerySet, single_line


def starting_blocks():
    """A new layout starts as the shared ones are: header, body, divider.

    A StreamValue, not raw data: the add form shows the default as it is.
    """
    return LayoutBlock().to_python(
        [
            {"type": "header", "value": {"logo": None, "title": "", "tagline": ""}},
            {"type": "message_body", "value": None},
            {"type": "divider", "value": None},
        ]
    )


class EmailLayoutQuerySet(OwnedQuerySet):
    def for_user(self, user):
        """Own layouts plus the shared ones (no owner) that ship for everyone."""
        visible = super().for_user(user)
        if not user.is_authenticated or not user.is_active or user.is_blocked:
            return visible
        return self.filter(Q(pk__in=visible.values("pk")) | Q(owner__isnull=True))

    def shared(self):
        return self.filter(owner__isnull=True)

    def default_for(self, language: str):
        """The shared layout in `language` (or any shared one): None if all are gone."""
        shared = self.shared().order_by("pk")
        return shared.filter(language=language).first() or shared.first()


class EmailLayout(PreviewableMixin, models.Model):
    """How a message looks: blocks around the body, then the mandatory footer."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="email_layouts",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        help_text=_("Empty: a shared layout, available to everyone."),
    )
    name = models.CharField(_("name"), max_length=120, validators=[single_line])
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language of the footer's fixed words."),
    )
    body = StreamField(
        LayoutBlock(), verbose_name=_("blocks"), blank=True, default=starting_blocks
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = EmailLayoutQuerySet.as_manager()

    class Meta:
        verbose_name = _("email layout")
        verbose_name_plural = _("email layouts")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    # Previewed around the sample letter, in the editor's preview panel.
    def serve_preview(self, request, mode_name):
        from ..previews import serve_layout_preview

        return serve_layout_preview(self, request)
