"""Subscribing one address to a list through the API (issues 12 and 15): with
double opt-in (the person confirms from an email), or as already confirmed, which
needs a note of how the consent was given (kept in the consent record)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..addresses import AddressError, normalise_email, normalise_name
from ..models import single_line


class SubscriptionRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        validators=[single_line],
    )
    double_opt_in = serializers.BooleanField(default=True)
    consent_note = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("How the person agreed; required without double opt-in."),
    )

    def validate_email(self, value):
        try:
            return normalise_email(value)
        except AddressError as error:
            raise serializers.ValidationError(str(error)) from None

    def validate_name(self, value):
        try:
            return normalise_name(value)
        except AddressError as error:
            raise serializers.ValidationError(str(error)) from None

    def validate(self, attrs):
        if not attrs["double_opt_in"] and not attrs["consent_note"].strip():
            raise serializers.ValidationError(
                {
                    "consent_note": [
                        _("Say how the person agreed, or use double opt-in.")
                    ]
                }
            )
        return attrs


class SubscriptionResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["subscribed", "unconfirmed", "suppressed"]
    )
    detail = serializers.CharField()
