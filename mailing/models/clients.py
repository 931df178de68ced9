import json

from django.conf import settings
from django.contrib.postgres.indexes import OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import JSONField, Value
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from ..zones import validate_time_zone
from .indexes import JsonContainmentIndex, OpClassUniqueConstraint
from .ownership import OwnedQuerySet, no_line_breaks

# Who may not be mailed: opted out, or suppressed (a bounce, a complaint).
UNDELIVERABLE = models.Q(unsubscribed_at__isnull=False) | ~models.Q(
    suppressed_reason=""
)


class Client(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="clients",
        verbose_name=_("owner"),
        # Led by owner already: the unique (owner, address) and (owner, created_at)
        # indexes. A third would only slow each insert (imports write millions).
        db_index=False,
    )
    email = models.EmailField(_("email"), max_length=254)
    # Other control characters (a vertical tab pasted from a word processor) are
    # repaired by clean(), as the import repairs them; the API refuses them.
    full_name = models.CharField(
        _("full name"), max_length=255, validators=[no_line_breaks]
    )
    comment = models.TextField(_("comment"), blank=True)
    # For delivery windows in the recipient's own day; blank: the owner's zone.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Leave empty to use your own time zone."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    suppressed_reason = models.CharField(
        _("suppressed because"), max_length=255, blank=True
    )
    # JSON, not an ArrayField or a tag table: one GIN index answers "has tag" and
    # "attribute equals" (`@>`) on PostgreSQL, and the columns migrate on SQLite.
    tags = models.JSONField(
        _("tags"), default=list, db_default=Value([], JSONField()), blank=True
    )
    # Keys are the owner's ClientFields; values checked by mailing.client_attributes.
    attributes = models.JSONField(
        _("attributes"), default=dict, db_default=Value({}, JSONField()), blank=True
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["email"]
        constraints = [
            # One index for an owner's addresses, of the two each insert of an
            # import wrote: unique, and (text_pattern_ops, whose `=` is the same
            # byte equality) the attempts search's LIKE 'x%' on LOWER(email),
            # which the default operator class cannot answer unless the database
            # collation is C.
            OpClassUniqueConstraint(
                "owner",
                OpClass(Lower("email"), name="text_pattern_ops"),
                name="client_owner_address",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "created_at"]),
            # The service's unique addresses (manager's figures, home page): read
            # in order from the index alone instead of hashing every row.
            models.Index(Lower("email"), include=["email"], name="client_address"),
            # Segments: "has tag" and "attribute equals" as jsonb containment.
            JsonContainmentIndex(fields=["tags"], name="client_tags"),
            JsonContainmentIndex(fields=["attributes"], name="client_attributes"),
            # The few who may not be mailed (mailing.audiences.recipient_count
            # subtracts them from a list's stored count); no cost for the rest.
            models.Index(
                fields=["owner"],
                condition=UNDELIVERABLE,
                name="client_undeliverable",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    def attributes_text(self) -> str:
        """The attributes as one spreadsheet cell (exports cannot hold an object)."""
        return json.dumps(self.attributes, ensure_ascii=False, sort_keys=True)

    attributes_text.short_description = _("attributes")
    get_attributes_display = attributes_text  # the inspect view

    def get_tags_display(self) -> str:
        return ", ".join(self.tags)

    def clean_fields(self, exclude=None):
        # A given address is checked once, in clean(), by the check the import and
        # the transport use (addresses.normalise_email), which says what is wrong:
        # Django's EmailValidator refused the same value with a second message.
        if self.email:
            exclude = {*(exclude or ()), "email"}
        super().clean_fields(exclude)

    def clean(self):
        # Any form or full_clean() caller stores what the transport can send.
        from ..addresses import AddressError, normalise_email, normalise_name
        from ..client_attributes import clean_attributes, clean_tags

        errors = {}
        for name, check in (
            ("tags", clean_tags),
            ("attributes", lambda bag: clean_attributes(self.owner_id, bag)),
        ):
            try:
                setattr(self, name, check(getattr(self, name)))
            except ValidationError as error:
                errors[name] = error.messages
        # An empty value is the field's own error ("required"), or a form field
        # that failed already: one message each, not a second "Invalid email: ".
        if self.email:
            try:
                self.email = normalise_email(self.email)
            except AddressError as error:
                errors["email"] = str(error)
        if self.full_name:
            try:
                self.full_name = normalise_name(self.full_name)
            except AddressError as error:
                errors["full_name"] = str(error)
        if errors:
            raise ValidationError(errors)


class ServiceAddress(models.Model):
    """One address of the service (a client's email, lower-cased) and how many
    clients hold it, across owners: what makes the service's unique address
    count a read instead of a sort of every client.

    Kept by the database in the transaction of each client change (triggers on
    the clients table, mailing.address_count_triggers); a row leaves when its
    last holder does. `manage.py rebuild_address_counts` recounts."""

    wagtail_reference_index_ignore = True

    address = models.TextField(_("address"), primary_key=True)
    holders = models.BigIntegerField(_("holders"), default=0)

    class Meta:
        verbose_name = _("service address")
        verbose_name_plural = _("service addresses")

    def __str__(self):
        return f"{self.address}: {self.holders}"


class ServiceAddressCount(models.Model):
    """A change of the number of the service's distinct addresses; their sum is
    the number. Rows are appended, never updated, so concurrent imports do not
    queue on one counter row; the triggers fold them now and then."""

    wagtail_reference_index_ignore = True

    addresses = models.BigIntegerField(_("addresses"))

    class Meta:
        verbose_name = _("service address count")
        verbose_name_plural = _("service address counts")

    def __str__(self):
        return str(self.addresses)


class OwnerClientCount(models.Model):
    """A change of how many clients one owner has; the sum of an owner's rows is
    the number, what the owner's figures read instead of counting their clients.

    Kept by the database in the transaction of each client change (triggers on
    the clients table, mailing.owner_count_triggers). Rows are appended, so two
    imports of one owner do not queue on one row; the triggers fold them now and
    then. No foreign key: the triggers count a deleted owner's clients out after
    Django's cascade, and a flush empties tables in any order."""

    wagtail_reference_index_ignore = True

    owner_id = models.BigIntegerField(_("owner"))
    clients = models.BigIntegerField(_("clients"))

    class Meta:
        verbose_name = _("owner's client count")
        verbose_name_plural = _("owners' client counts")
        indexes = [
            models.Index(fields=["owner_id", "clients"], name="owner_client_count")
        ]

    def __str__(self):
        return f"{self.owner_id}: {self.clients}"
