"""Per-owner client fields and saved segments (issue 12).

A client carries `tags` (a JSON list of strings) and `attributes` (a JSON object)
whose keys are the owner's declared ClientFields. A Segment is a saved filter over
clients: rules as JSON, checked and compiled to one query by mailing.segments.
"""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .ownership import OwnedQuerySet, single_line

field_key = RegexValidator(
    # No double underscore: a key is never read as a query lookup.
    r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$",
    message=_(
        "Lowercase Latin letters and digits, words joined by one underscore, "
        "starting with a letter."
    ),
)


class ClientField(models.Model):
    """A custom attribute the owner declares: its key in the attribute bag, the
    label people see, and the type its values must have."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes or no")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="client_fields",
        verbose_name=_("owner"),
    )
    key = models.CharField(
        _("key"),
        max_length=40,
        validators=[field_key],
        help_text=_("Used in imports, the API, segments and merge tags: {{ key }}."),
    )
    label = models.CharField(_("label"), max_length=255, validators=[single_line])
    kind = models.CharField(
        _("type"), max_length=16, choices=Kind.choices, default=Kind.TEXT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("client field")
        verbose_name_plural = _("client fields")
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "key"], name="mailing_clientfield_key_once"
            )
        ]

    def __str__(self):
        return f"{self.label} ({self.key})"


class Segment(models.Model):
    class Match(models.TextChoices):
        ALL = "all", _("All of the conditions")
        ANY = "any", _("Any of the conditions")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="segments",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=255, validators=[single_line])
    match = models.CharField(
        _("clients matching"),
        max_length=8,
        choices=Match.choices,
        default=Match.ALL,
    )
    # [{"type": "tag", "op": "has", "value": "vip"}, ...]: see mailing.segments.
    rules = models.JSONField(_("conditions"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        indexes = [models.Index(fields=["owner", "name"])]

    def __str__(self):
        return self.name

    def rules_text(self) -> str:
        """The rules as one spreadsheet cell (exports cannot hold a list of objects)."""
        return json.dumps(self.rules, ensure_ascii=False)

    rules_text.short_description = _("conditions")

    def get_rules_display(self) -> str:
        """The conditions in words (the inspect view)."""
        from ..segment_conditions import describe_rules

        return describe_rules(self)

    def clean(self):
        from ..segments import clean_rules

        try:
            self.rules = clean_rules(self.owner_id, self.rules)
        except ValidationError as error:
            raise ValidationError({"rules": error.messages}) from error
