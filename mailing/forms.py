"""Admin forms. Choices are scoped to the user and the owner comes from the request."""

from django import forms
from django.conf import settings
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from .models import Client, EmailLayout, Mailing, Message, SenderIdentity


class OwnedModelForm(WagtailAdminModelForm):
    """Sets the owner of a new object from the signed-in user, never from the form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and self.for_user is not None:
            self.instance.owner = self.for_user

    @property
    def owner(self):
        return self.instance.owner


class ClientForm(OwnedModelForm):
    class Meta:
        model = Client
        fields = ["email", "full_name", "comment"]

    def clean_email(self):
        # The unique constraint involves `owner`, which is not a form field, so
        # Django would skip it: check here for a clear message instead of a 500.
        email = self.cleaned_data["email"].strip()
        duplicates = Client.objects.filter(
            owner=self.owner, email__iexact=email
        ).exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise forms.ValidationError(_("You already have a client with this email."))
        return email


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


class MailingForm(OwnedModelForm):
    class Meta:
        model = Mailing
        fields = [
            "name",
            "message",
            "clients",
            "first_send_at",
            "periodicity",
            "end_at",
        ]
        widgets = {
            "message": forms.Select,
            "clients": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the owner's rows are choices: a foreign id fails as "not a valid
        # choice". The owner, not the viewer, so a superuser editing keeps it sane.
        self.fields["message"].queryset = Message.objects.for_user(
            self.for_user
        ).filter(owner=self.owner)
        self.fields["clients"].queryset = Client.objects.for_user(self.for_user).filter(
            owner=self.owner
        )

    def clean(self):
        cleaned = super().clean()
        first, end = cleaned.get("first_send_at"), cleaned.get("end_at")
        if first and end and end <= first:
            self.add_error("end_at", _("The end must come after the first sending."))
        return cleaned

    def save(self, commit=True):
        mailing = super().save(commit=False)
        if mailing.status == Mailing.Status.CREATED:
            # Until the first sending the schedule simply follows the form.
            mailing.next_send_at = mailing.first_send_at
        if commit:
            mailing.save()
            self.save_m2m()
        return mailing


class ClientImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns: email, full name, comment. UTF-8 or Windows-1251."),
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


class PreviewRecipientForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Recipient"), queryset=Client.objects.none(), required=False
    )

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients
