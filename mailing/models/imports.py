"""A client import running in the background (issue 12): the stashed file, what to
do with it, and its progress, committed chunk by chunk so that a consumer that
dies mid-file is resumed from the last committed chunk."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .ownership import OwnedQuerySet


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("import", "Queued")
        RUNNING = "running", pgettext_lazy("import", "Running")
        DONE = "done", pgettext_lazy("import", "Done")
        FAILED = "failed", pgettext_lazy("import", "Failed")

    FINISHED = (Status.DONE, Status.FAILED)

    class Existing(models.TextChoices):
        SKIP = "skip", _("Leave them as they are")
        UPDATE = "update", _("Fill in their data from the file's non-empty cells")
        REPLACE = "replace", _("Replace their data with the file's, empty cells too")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="import_jobs",
        verbose_name=_("owner"),
    )
    # The stash token (mailing.imports.stash_path): the file stays until the end.
    file_token = models.CharField(_("file"), max_length=64)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    # Column index per target (mailing.import_mapping): {"email": 0, "comment": 2};
    # empty: guessed from the file's first row.
    mapping = models.JSONField(_("column mapping"), default=dict)
    mailing_list = models.ForeignKey(
        "mailing.MailingList",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("list"),
    )
    existing = models.CharField(
        _("existing clients"),
        max_length=8,
        choices=Existing.choices,
        default=Existing.SKIP,
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("rows in the file"), null=True)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # Rows whose address an earlier row of the file has (the first is imported).
    repeated = models.PositiveIntegerField(_("repeated"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Touched by every chunk: a running job that stops changing has lost its consumer.
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("client import")
        verbose_name_plural = _("client imports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"


class ImportRejection(models.Model):
    """A row the import refused, with its line in the file and why."""

    wagtail_reference_index_ignore = True

    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="rejections",
        verbose_name=_("import"),
    )
    line = models.PositiveIntegerField(_("line"))
    reason = models.TextField(_("reason"))
    # A repeated address: the line that had it first (empty for an invalid row).
    first_line = models.PositiveIntegerField(_("first line"), null=True, blank=True)

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        indexes = [models.Index(fields=["job", "line"])]

    def __str__(self):
        return f"{self.line}: {self.reason}"
