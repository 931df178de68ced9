"""Admin forms. Choices are scoped to the user and the owner comes from the request."""

from datetime import datetime

from django import forms
from django.conf import settings
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from . import import_mapping
from .addresses import AddressError, normalise_email, normalise_name
from .layout_choices import check_linked_pages
from .models import (
    Client,
    EmailLayout,
    ImportJob,
    Mailing,
    MailingList,
    Message,
    Segment,
    SenderIdentity,
    Subscription,
)
from .scheduling import SCHEDULE_RULE_FIELDS, schedule_problems
from .zones import owner_zone, site_zone, zone_names


class OwnedModelForm(WagtailAdminModelForm):
    """Sets the owner of a new object from the signed-in user, never from the form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and self.for_user is not None:
            self.instance.owner = self.for_user

    @property
    def owner(self):
        return self.instance.owner


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", _("Same as mine")), *((name, name) for name in sorted(zone_names()))]


class ClientForm(OwnedModelForm):
    class Meta:
        model = Client
        fields = ["email", "full_name", "comment", "time_zone"]

    def clean_email(self):
        # The unique constraint involves `owner`, which is not a form field, so
        # Django would skip it: check here for a clear message instead of a 500.
        try:
            email = normalise_email(self.cleaned_data["email"])
        except AddressError as error:
            raise forms.ValidationError(str(error)) from None
        duplicates = Client.objects.filter(
            owner=self.owner, email__iexact=email
        ).exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise forms.ValidationError(_("You already have a client with this email."))
        return email

    def clean_full_name(self):
        try:
            return normalise_name(self.cleaned_data["full_name"])
        except AddressError as error:
            raise forms.ValidationError(str(error)) from None


class MessageForm(OwnedModelForm):
    class Meta:
        model = Message
        fields = ["subject", "layout", "sender", "body", "html_body"]
        widgets = {"layout": forms.Select, "sender": forms.Select}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The owner's, not the viewer's: a foreign or unconfirmed id is "not a
        # valid choice"; Message.clean() says the same to any other caller.
        owner_id = self.instance.owner_id
        self.fields["sender"].queryset = SenderIdentity.objects.usable_by(owner_id)
        self.fields["sender"].empty_label = _("The site's address")
        self.fields["layout"].queryset = EmailLayout.objects.filter(
            models.Q(owner__isnull=True) | models.Q(owner_id=owner_id)
        )
        self.fields["layout"].empty_label = _("The shared layout in your language")


class EmailLayoutForm(OwnedModelForm):
    class Meta:
        model = EmailLayout
        fields = ["name", "language", "body"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and self.for_user is not None:
            self.initial.setdefault("language", self.for_user.language)

    def clean_body(self):
        body = self.cleaned_data["body"]
        kept = self.instance.body if self.instance.pk else None
        check_linked_pages(body, kept)
        return body


class SenderIdentityForm(OwnedModelForm):
    class Meta:
        model = SenderIdentity
        fields = ["from_name", "from_email", "reply_to", "postal_address"]
        widgets = {"postal_address": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "from_email": _(
                "We send a confirmation link to this address: the identity can be "
                "used once you open it while signed in and confirm."
            )
        }

    def clean_from_email(self):
        # The unique constraint involves `owner`, which is not a form field.
        email = self.cleaned_data["from_email"].strip()
        duplicates = SenderIdentity.objects.filter(
            owner=self.owner, from_email__iexact=email
        ).exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise forms.ValidationError(_("You already have this sender address."))
        return email


class MailingListForm(OwnedModelForm):
    class Meta:
        model = MailingList
        fields = ["name", "description"]


class ZonedDateTimeField(forms.DateTimeField):
    """A date and time shown and read in a given zone, not the viewer's.

    A mailing's schedule is kept in its owner's zone: a manager (or a superuser)
    editing it sees and types the owner's wall-clock times.
    """

    zone = None

    def prepare_value(self, value):
        if self.zone and isinstance(value, datetime) and timezone.is_aware(value):
            value = timezone.make_naive(value, self.zone)
        return super().prepare_value(value)

    def to_python(self, value):
        with timezone.override(self.zone or timezone.get_current_timezone()):
            return super().to_python(value)


class MailingForm(OwnedModelForm):
    class Media:
        # Shows the audience's count as lists are ticked (never the people).
        js = ["js/audience_count.js"]

    # Wagtail's Meta brings its date and time pickers (FORM_FIELD_OVERRIDES).
    class Meta(WagtailAdminModelForm.Meta):
        model = Mailing
        fields = [
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
        ]
        widgets = {
            "message": forms.Select,
            "lists": forms.CheckboxSelectMultiple,
            "segment": forms.Select,
        }
        field_classes = {
            "first_send_at": ZonedDateTimeField,
            "end_at": ZonedDateTimeField,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = owner_zone(self.owner) if self.instance.owner_id else site_zone()
        for name in ("first_send_at", "end_at"):
            if name in self.fields:
                self.fields[name].zone = zone
        if "first_send_at" in self.fields:
            self.fields["first_send_at"].help_text = _(
                "In the owner's time zone, %(zone)s: later sendings keep this time "
                "of day there, summer time or not."
            ) % {"zone": zone.key}
        # Only the owner's rows are choices: a foreign id fails as "not a valid
        # choice". The owner, not the viewer, so a superuser editing keeps it sane.
        self.fields["message"].queryset = Message.objects.for_user(
            self.for_user
        ).filter(owner=self.owner)
        if "lists" in self.fields:
            self._scope_lists()
        if "segment" in self.fields:
            field = self.fields["segment"]
            field.queryset = Segment.objects.for_user(self.for_user).filter(
                owner=self.owner
            )
            field.empty_label = _("No segment: everyone on the lists")

    def _scope_lists(self) -> None:
        """The owner's lists, each labelled with its subscribers: counts, never the
        people (a list of a million is one checkbox)."""
        from .audiences import member_counts

        field = self.fields["lists"]
        field.queryset = MailingList.objects.for_user(self.for_user).filter(
            owner=self.owner
        )
        counts = member_counts(field.queryset)
        subscribed = Subscription.Status.SUBSCRIBED
        self.fields["all_clients"].widget.attrs.update(
            {
                "data-audience-count": reverse("mailing_mailing:audience_count"),
                "data-mailing": self.instance.pk or "",
            }
        )
        field.label_from_instance = lambda item: (
            _("%(name)s (%(count)s subscribed)")
            % {"name": item.name, "count": counts[item.pk][subscribed]}
        )

    def clean(self):
        cleaned = super().clean()
        if "lists" in self.fields and not (
            cleaned.get("lists") or cleaned.get("all_clients")
        ):
            self.add_error("lists", _("Choose at least one list, or all your clients."))
        values = {name: cleaned.get(name) for name in SCHEDULE_RULE_FIELDS}
        for name, problem in schedule_problems(**values).items():
            # A field that failed its own check has said what is wrong already.
            if name in self.fields and name not in self.errors:
                self.add_error(name, problem)
        return cleaned


class ClientImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_(
            "Columns: email, full name, comment, tags and your client fields "
            "(you choose on the next step). CSV: separated by commas, "
            "semicolons or tabs; UTF-8, UTF-16, Windows-1251 or KOI8-R. XLSX: the "
            "first sheet."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CLIENT_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s."),
                code="too_large",
                params={"size": filesizeformat(limit)},
            )
        return upload


class ImportConfirmForm(forms.Form):
    """The confirm step of an import: which column goes to which field, where the
    clients go, what happens to those already known."""

    mailing_list = forms.ModelChoiceField(
        label=_("Add them to the list"),
        queryset=MailingList.objects.none(),
        required=False,
        empty_label=_("No list"),
        help_text=_(
            "Who unsubscribed from the list stays unsubscribed; suppressed "
            "addresses stay suppressed."
        ),
    )
    existing = forms.ChoiceField(
        label=_("Clients already in your base"),
        choices=ImportJob.Existing.choices,
        initial=ImportJob.Existing.SKIP,
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, owner, columns=(), guess=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mailing_list"].queryset = MailingList.objects.filter(owner=owner)
        self.guess = guess or {}
        by_column = {index: target for target, index in self.guess.items()}
        self.targets = import_mapping.targets_for(import_mapping.owner_fields(owner.pk))
        choices = [("", _("Ignore")), *self.targets.items()]
        for index, name in enumerate(columns):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=name,
                choices=choices,
                initial=by_column.get(index, ""),
                required=False,
            )

    def column_fields(self):
        return [self[name] for name in self.fields if name.startswith("column_")]

    def clean_existing(self):
        return self.cleaned_data["existing"] or ImportJob.Existing.SKIP

    def clean(self):
        cleaned = super().clean()
        names = [name for name in self.fields if name.startswith("column_")]
        if not any(name in self.data for name in names):
            # Confirmed without the mapping step (no columns sent): the guess.
            cleaned["mapping"] = dict(self.guess)
            return cleaned
        mapping: dict[str, int] = {}
        for index, name in enumerate(names):
            target = cleaned.get(name)
            if target and target in mapping:
                raise forms.ValidationError(
                    _("“%(field)s” is chosen for more than one column."),
                    params={"field": self.targets[target]},
                )
            if target:
                mapping[target] = index
        if "email" not in mapping:
            raise forms.ValidationError(_("Choose the column that holds the email."))
        cleaned["mapping"] = mapping
        return cleaned


class PreviewRecipientForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Recipient"), queryset=Client.objects.none(), required=False
    )

    # The first recipients are offered; any other of the audience is accepted.
    shown = 100

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["client"]
        field.queryset = clients
        field.widget.choices = [("", "---------")] + [
            (client.pk, str(client)) for client in clients[: self.shown]
        ]
