"""What a visitor fills in on a public subscribe form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .addresses import AddressError, normalise_email, normalise_name

# A field people never see (hidden by CSS, skipped by the keyboard), that form
# filling bots fill in. Its name sounds worth filling.
HONEYPOT = "website"


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    name = forms.CharField(
        label=_("Name (optional)"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    consent = forms.BooleanField(label="", required=False)
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    # Which subscribe page the form was on; anything else just means "none".
    page = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args, consent_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if consent_text:
            self.fields["consent"].label = consent_text
            self.fields["consent"].required = True
            self.fields["consent"].error_messages["required"] = _(
                "Please tick the box to agree."
            )
        else:
            del self.fields["consent"]
        for name in ("email", "name", HONEYPOT):
            self.fields[name].widget.attrs.setdefault("class", "form-control")

    def clean_email(self):
        try:
            return normalise_email(self.cleaned_data["email"])
        except AddressError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_name(self):
        try:
            return normalise_name(self.cleaned_data["name"])
        except AddressError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_page(self) -> int | None:
        value = self.cleaned_data["page"]
        return int(value) if value.isdecimal() else None

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT))
