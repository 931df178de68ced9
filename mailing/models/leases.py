from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsumerLease(models.Model):
    """One sending consumer while it sends a run (mailing.sending.leases): its
    heartbeat.

    Its id is the fencing token on the rows it claims: ids are never reused, so a
    consumer that wakes up after its lease was taken owns none of the rows again.
    """

    id = models.BigAutoField(primary_key=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    heartbeat_at = models.DateTimeField(_("last heartbeat"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("consumer lease")
        verbose_name_plural = _("consumer leases")

    def __str__(self):
        return f"{self.host}:{self.pid} #{self.pk}"
