from django.conf import settings
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _

from .ownership import OwnedQuerySet, single_line


class SenderIdentityQuerySet(OwnedQuerySet):
    def confirmed(self):
        return self.filter(confirmed_at__isnull=False)

    def usable_by(self, owner):
        """What `owner` may send as: their own identities, confirmed."""
        return self.confirmed().filter(owner=owner)


class SenderIdentity(models.Model):
    """Who a mailing comes from. Usable only once its owner confirmed the address
    by a link sent to it (mailing.senders): nobody sends as someone else."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sender_identities",
        verbose_name=_("owner"),
    )
    from_name = models.CharField(
        _("From name"), max_length=120, validators=[single_line]
    )
    from_email = models.EmailField(
        _("From address"), validators=[validate_email, single_line]
    )
    reply_to = models.EmailField(
        _("Reply-To"),
        blank=True,
        validators=[single_line],
        help_text=_("Where replies go; empty: to the From address."),
    )
    postal_address = models.TextField(
        _("postal address"),
        max_length=500,
        help_text=_(
            "Printed in the footer of every email: anti-spam laws in many countries "
            "require it."
        ),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = SenderIdentityQuerySet.as_manager()

    class Meta:
        verbose_name = _("sender identity")
        verbose_name_plural = _("sender identities")
        ordering = ["from_email", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "from_email"], name="sender_identity_unique_address"
            )
        ]

    def __str__(self):
        return f"{self.from_name} <{self.from_email}>"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def save(self, *args, **kwargs):
        # A confirmation is for one address: changing it needs a new one.
        if self.pk is not None and self.confirmed_at is not None:
            stored = type(self).objects.filter(pk=self.pk).values("from_email").first()
            if (
                stored is None
                or stored["from_email"].lower() != self.from_email.lower()
            ):
                self.confirmed_at = None
        super().save(*args, **kwargs)
