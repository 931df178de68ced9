"""What the API reads and writes of each model.

Related ids are looked up only among the requesting owner's rows (the admin
form's rule, mailing.forms): a foreign id is "not found", never used.
Validation is the model's own `clean()`, so the admin and the API agree.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User

from .. import services
from ..client_attributes import tag_list
from ..forms import EmailLayoutForm, SenderIdentityForm
from ..models import (
    Attempt,
    Client,
    ClientField,
    EmailLayout,
    Event,
    Mailing,
    MailingList,
    MailingRun,
    Message,
    Segment,
    SenderIdentity,
    Suppression,
    single_line,
)
from ..scheduling import SCHEDULE_RULE_FIELDS, schedule_problems
from .admin_forms import MAX_ID, api_form_class, chooser_problems, run_form


def run_model_clean(instance) -> None:
    """The model's clean() as DRF validation errors, by field."""
    try:
        instance.clean()
    except DjangoValidationError as error:
        raise serializers.ValidationError(
            serializers.as_serializer_error(error)
        ) from error


def requester(serializer):
    return serializer.context["request"].user


class OwnedRelatedField(serializers.PrimaryKeyRelatedField):
    """An id among the requesting owner's rows (`rows(user)`)."""

    def __init__(self, rows, **kwargs):
        self.rows = rows
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.rows(self.context["request"].user)


def own(model):
    return lambda user: model.objects.for_user(user).filter(owner=user)


def usable_layouts(user):
    return EmailLayout.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def usable_senders(user):
    return SenderIdentity.objects.usable_by(user)


class OwnedIdsField(serializers.ListField):
    """Many ids among the owner's rows, checked in one query (a mailing may have
    thousands of recipients: no query per id)."""

    default_error_messages = {
        "not_found": _("Not found: %(ids)s."),
    }

    def __init__(self, rows, **kwargs):
        self.rows = rows
        super().__init__(child=serializers.IntegerField(min_value=1), **kwargs)

    def to_internal_value(self, data):
        ids = list(dict.fromkeys(super().to_internal_value(data)))
        user = self.context["request"].user
        found = set(self.rows(user).filter(pk__in=ids).values_list("pk", flat=True))
        if missing := [pk for pk in ids if pk not in found]:
            raise serializers.ValidationError(
                self.error_messages["not_found"]
                % {"ids": ", ".join(map(str, missing[:20]))},
                code="not_found",
            )
        return ids

    def to_representation(self, value):
        return [obj.pk for obj in value.all()]


class SavedOnce:
    """A row two requests write at once (a retry, a double submit): both pass the
    checks, the database's unique constraint lets one in, and the other is told
    what a later request is told, by its checks run again, not a 500."""

    def save(self, **kwargs):
        try:
            with transaction.atomic():
                return super().save(**kwargs)
        except IntegrityError as error:
            again = type(self)(
                self.instance,
                data=self.initial_data,
                context=self.context,
                partial=self.partial,
            )
            if again.is_valid():
                raise  # not a row that came first: nothing to tell the client
            raise serializers.ValidationError(again.errors) from error


class OwnedModelSerializer(SavedOnce, serializers.ModelSerializer):
    """Creates rows owned by the requester and runs the model's clean()."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        plain = {
            name: value
            for name, value in attrs.items()
            if not isinstance(self.fields.get(name), OwnedIdsField)
        }
        instance = self.instance or self.Meta.model(owner=requester(self))
        for name, value in plain.items():
            setattr(instance, name, value)
        run_model_clean(instance)
        # clean() may normalise values (an address's domain): keep what it made.
        return {**attrs, **{name: getattr(instance, name) for name in plain}}

    def create(self, validated_data):
        validated_data["owner"] = requester(self)
        return super().create(validated_data)


class ClientSerializer(OwnedModelSerializer):
    class Meta:
        model = Client
        fields = [
            "id",
            "email",
            "full_name",
            "comment",
            "time_zone",
            "tags",
            "attributes",
            "created_at",
            "unsubscribed_at",
            "suppressed_reason",
        ]
        read_only_fields = ["created_at", "unsubscribed_at", "suppressed_reason"]
        extra_kwargs = {
            # A program's text is refused, not repaired as the admin's form and
            # the import repair a pasted vertical tab (Client.full_name).
            "full_name": {"validators": [single_line]},
            "tags": {"help_text": "Words; stored lower-case, unique, sorted."},
            "attributes": {
                "help_text": "Your declared client fields' keys and typed values; "
                "the whole object is replaced."
            },
        }

    def validate_tags(self, value):
        return tag_list(value)

    def validate_email(self, value):
        owner = self.instance.owner if self.instance else requester(self)
        others = Client.objects.filter(owner=owner, email__iexact=value.strip())
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(
                _("You already have a client with this email."), code="unique"
            )
        return value


class MessageSerializer(OwnedModelSerializer):
    layout = OwnedRelatedField(usable_layouts, required=False, allow_null=True)
    sender = OwnedRelatedField(usable_senders, required=False, allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "subject",
            "body",
            "html_body",
            "layout",
            "sender",
            "created_at",
            "updated_at",
        ]


class MailingListSerializer(OwnedModelSerializer):
    class Meta:
        model = MailingList
        fields = ["id", "name", "description", "created_at"]
        read_only_fields = ["created_at"]


class ClientFieldSerializer(OwnedModelSerializer):
    class Meta:
        model = ClientField
        fields = ["id", "key", "label", "kind", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        field = self.instance
        for name in ("key", "kind"):
            if (
                field is not None
                and name in attrs
                and attrs[name] != getattr(field, name)
            ):
                raise serializers.ValidationError(
                    {name: _("Fixed once the field exists.")}
                )
        key = attrs.get("key")
        if (
            field is None
            and ClientField.objects.filter(owner=requester(self), key=key).exists()
        ):
            raise serializers.ValidationError(
                {"key": _("You already have a field with this key.")}
            )
        return super().validate(attrs)


class SegmentSerializer(OwnedModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name", "match", "rules", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "rules": {
                "help_text": 'A list of conditions, e.g. {"type": "tag", "op": "has", '
                '"value": "vip"}; see the segments guide.'
            }
        }


class SegmentCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Clients the segment matches now.")
    reachable = serializers.IntegerField(
        help_text="Of them, not unsubscribed and not suppressed."
    )


class SubscribeSerializer(serializers.Serializer):
    clients = OwnedIdsField(own(Client), max_length=10_000)


class SuppressionSerializer(serializers.ModelSerializer):
    """An entry of the owner's suppression list. The address itself is not kept
    (only its hash): it is written once, when the entry is made."""

    email = serializers.EmailField(write_only=True, max_length=254)

    class Meta:
        model = Suppression
        fields = ["id", "email", "address_hash", "reason", "detail", "created_at"]
        read_only_fields = ["address_hash", "reason", "created_at"]


class ReportSerializer(serializers.Serializer):
    """A mailing's report, from the stored counters (as the admin's report)."""

    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    delivered = serializers.IntegerField()
    bounces = serializers.IntegerField()
    hard_bounces = serializers.IntegerField()
    soft_bounces = serializers.IntegerField()
    complaints = serializers.IntegerField()
    unsubscribes = serializers.IntegerField()
    opens = serializers.IntegerField()
    human_opens = serializers.IntegerField()
    clicks = serializers.IntegerField()
    human_clicks = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="Sent of tried, %")
    bounce_rate = serializers.FloatField(allow_null=True)
    complaint_rate = serializers.FloatField(allow_null=True)
    complaints_too_high = serializers.BooleanField()
    bounces_too_high = serializers.BooleanField()


class LiftSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class MailingSerializer(OwnedModelSerializer):
    message = OwnedRelatedField(own(Message))
    # The audience: the owner's lists (their subscribed members), or every client.
    lists = OwnedIdsField(own(MailingList), required=False)
    segment = OwnedRelatedField(own(Segment), required=False, allow_null=True)

    class Meta:
        model = Mailing
        fields = [
            "id",
            "name",
            "message",
            "lists",
            "all_clients",
            "segment",
            "first_send_at",
            "periodicity",
            "end_at",
            "window_start",
            "window_end",
            "track_engagement",
            "is_digest",
            "public_archive",
            "status",
            "is_enabled",
            "is_paused",
            "next_send_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "is_enabled",
            "is_paused",
            "next_send_at",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        # Given, or kept from the mailing: the admin form's rule (mailing.scheduling).
        values = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in SCHEDULE_RULE_FIELDS
        }
        problems = schedule_problems(**values)
        if not self._has_audience(attrs):
            problems["lists"] = _("Choose at least one list, or all your clients.")
        if problems:
            raise serializers.ValidationError(problems)
        return attrs

    def _has_audience(self, attrs) -> bool:
        """Lists or all clients, as the admin's form asks (given, or kept)."""
        mailing = self.instance
        every = attrs.get("all_clients", bool(mailing and mailing.all_clients))
        if "lists" in attrs:
            return bool(every or attrs["lists"])
        return bool(every or (mailing and mailing.lists.exists()))


class AdminFormSerializer(SavedOnce, serializers.ModelSerializer):
    """Validated and saved by the admin's form for the model: the same checks, the
    same owner (the requester's, for a new row)."""

    admin_form = None

    def validate(self, attrs):
        form_class = api_form_class(self.admin_form)
        self.form = run_form(form_class, requester(self), attrs, self.instance)
        return attrs

    def create(self, validated_data):
        return self.form.save()

    def update(self, instance, validated_data):
        return self.form.save()


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "value": {}},
            "required": ["type"],
        },
    }
)
class StreamJSONField(serializers.JSONField):
    """A StreamField as Wagtail stores it: [{"type": ..., "value": ..., "id": ...}]."""

    def to_representation(self, value):
        return value.get_prep_value()


class LayoutSerializer(AdminFormSerializer):
    admin_form = EmailLayoutForm
    body = StreamJSONField(
        required=False,
        help_text="Blocks: header, message_body (at most one), text, image, "
        "button, divider, footer; the mandatory footer is always added.",
    )
    shared = serializers.SerializerMethodField()

    class Meta:
        model = EmailLayout
        fields = [
            "id",
            "name",
            "language",
            "body",
            "shared",
            "created_at",
            "updated_at",
        ]

    def validate_body(self, value):
        block = EmailLayout._meta.get_field("body").stream_block
        if problems := chooser_problems(block, value, requester(self), "body"):
            raise serializers.ValidationError(problems)
        return value

    def get_shared(self, layout) -> bool:
        return layout.owner_id is None


class SenderIdentitySerializer(AdminFormSerializer):
    admin_form = SenderIdentityForm
    confirmed = serializers.BooleanField(source="is_confirmed", read_only=True)

    class Meta:
        model = SenderIdentity
        fields = [
            "id",
            "from_name",
            "from_email",
            "reply_to",
            "postal_address",
            "confirmed",
            "confirmed_at",
            "created_at",
        ]
        read_only_fields = ["confirmed_at", "created_at"]


class RunSerializer(serializers.ModelSerializer):
    done = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField()

    class Meta:
        model = MailingRun
        fields = [
            "id",
            "mailing",
            "kind",
            "slot",
            "status",
            "total",
            "sent_count",
            "failed_count",
            "skipped_count",
            "cancelled_count",
            "done",
            "percent",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_done(self, run) -> int:
        return services.run_done(run)

    def get_percent(self, run) -> int:
        return services.run_percent(run)


class AttemptSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="client.email", read_only=True)
    server_response = serializers.CharField(source="response_shown", read_only=True)

    class Meta:
        model = Attempt
        fields = [
            "id",
            "run",
            "mailing",
            "client",
            "email",
            "status",
            "attempted_at",
            "tries",
            "server_response",
            "esp_message_id",
        ]


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = [
            "id",
            "attempt",
            "kind",
            "at",
            "source",
            "description",
            "url",
            "verdict",
        ]


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "is_blocked"]
        read_only_fields = fields


class ResultSerializer(serializers.Serializer):
    """What an action did, for the schema."""

    detail = serializers.CharField()


class BulkClientRowSerializer(serializers.Serializer):
    email = serializers.CharField()
    full_name = serializers.CharField(required=False)
    comment = serializers.CharField(required=False)
    time_zone = serializers.CharField(required=False)
    tags = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Replaces the tags."
    )
    attributes = serializers.DictField(
        required=False,
        help_text="Merged into the stored attributes; null or empty removes a key.",
    )


class BulkClientsSerializer(serializers.Serializer):
    clients = BulkClientRowSerializer(many=True, max_length=10_000)
    list = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="A list of yours to subscribe the written clients to.",
    )


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class BulkReportSerializer(serializers.Serializer):
    """Counts, the client id of each written row (by row index) and each refused
    row's problem."""

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    ids = serializers.DictField(child=serializers.IntegerField())
    errors = serializers.SerializerMethodField()

    @extend_schema_field(RowErrorSerializer(many=True))
    def get_errors(self, report) -> list[dict]:
        return [
            {"row": row, "field": name, "message": message}
            for row, name, message in report.errors
        ]
