from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .clients import Client
from .messages import Message
from .ownership import OwnedQuerySet


class MailingQuerySet(OwnedQuerySet):
    def due(self, now):
        """Mailings whose next slot has come: enabled, unfinished, owner allowed."""
        return self.filter(
            next_send_at__lte=now,
            is_enabled=True,
            owner__is_active=True,
            owner__is_blocked=False,
        ).exclude(status=Mailing.Status.FINISHED)


class Mailing(models.Model):
    class Periodicity(models.TextChoices):
        ONCE = "once", _("Once")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mailings",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=255)
    message = models.ForeignKey(
        Message,
        on_delete=models.PROTECT,
        related_name="mailings",
        verbose_name=_("message"),
    )
    clients = models.ManyToManyField(
        Client, related_name="mailings", verbose_name=_("recipients")
    )
    first_send_at = models.DateTimeField(_("first send at"))
    periodicity = models.CharField(
        _("periodicity"),
        max_length=16,
        choices=Periodicity.choices,
        default=Periodicity.ONCE,
    )
    end_at = models.DateTimeField(_("end at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.CREATED
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    next_send_at = models.DateTimeField(_("next send at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MailingQuerySet.as_manager()

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at"]
        permissions = [
            ("view_all_owners", _("Can view the mailing objects of every owner")),
            ("disable_mailing", _("Can disable and re-enable any mailing")),
            # Lives here, not on accounts.User: accounts knows nothing of mailing.
            ("block_users", _("Can block and unblock users")),
        ]
        indexes = [
            models.Index(fields=["status", "is_enabled", "next_send_at"]),
            models.Index(fields=["owner", "created_at"]),
        ]

    def __str__(self):
        return self.name
