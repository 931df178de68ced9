"""A list's public subscribe form in the admin (issue 12): its settings, hosted
address and the HTML to embed elsewhere; and the consents on a client's page."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin.widgets import ListingButton

from . import subscribe
from .admin_pages import AdminPageMixin, listing_crumb
from .admin_views import OwnedInspectView
from .models import Consent, MailingList, SubscribeForm
from .permissions import policy_for


def may_edit_form(user, mailing_list: MailingList) -> bool:
    """The list's owner (or a superuser); a manager changes no content."""
    allowed = policy_for(MailingList).user_has_permission_for_instance(
        user, "change", mailing_list
    )
    return allowed and (user.is_superuser or mailing_list.owner_id == user.pk)


def form_button(user, mailing_list: MailingList) -> list[ListingButton]:
    if not may_edit_form(user, mailing_list):
        return []
    url = reverse("mailing_mailinglist:subscribe_form", args=[mailing_list.pk])
    return [ListingButton(_("Public form"), url=url, icon_name="form")]


class FormSettingsForm(forms.ModelForm):
    redirect_url = forms.URLField(
        label=SubscribeForm._meta.get_field("redirect_url").verbose_name,
        help_text=SubscribeForm._meta.get_field("redirect_url").help_text,
        required=False,
        assume_scheme="https",
    )

    class Meta:
        model = SubscribeForm
        fields = [
            "is_enabled",
            "title",
            "intro",
            "consent_text",
            "double_opt_in",
            "thanks_text",
            "redirect_url",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("intro", "consent_text", "thanks_text")
        }


class SubscribeFormView(AdminPageMixin, FormView):
    page_title = gettext_lazy("Public subscribe form")
    header_icon = "form"
    template_name = "mailing/admin/subscribe_form.html"
    form_class = FormSettingsForm

    def dispatch(self, request, *args, **kwargs):
        self.mailing_list = get_object_or_404(MailingList, pk=kwargs["pk"])
        if not may_edit_form(request.user, self.mailing_list):
            raise PermissionDenied
        self.settings = subscribe.form_settings_for(self.mailing_list)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.settings}

    def get_page_subtitle(self):
        return str(self.mailing_list)

    def get_parent_breadcrumbs(self):
        return [listing_crumb(MailingList)]

    def get_context_data(self, **kwargs):
        url = subscribe.hosted_url(self.settings)
        snippet = render_to_string(
            "mailing/admin/subscribe_embed.txt",
            {"url": url, "settings": self.settings},
        ).strip()
        return {
            **super().get_context_data(**kwargs),
            "hosted_url": url,
            "snippet": snippet,
            "settings": self.settings,
        }

    def form_valid(self, form):
        form.save()
        messages.success(self.request, _("The form's settings are saved."))
        return redirect("mailing_mailinglist:subscribe_form", self.mailing_list.pk)


class ClientInspectView(OwnedInspectView):
    """Adds each subscription's consent records: what the person agreed to, when,
    from where."""

    def get_field_label(self, field_name, field):
        if field_name == "consents":
            return _("Consents")
        return super().get_field_label(field_name, field)

    def get_consents_display_value(self):
        consents = Consent.objects.filter(subscription__client=self.object)
        consents = consents.select_related("subscription__mailing_list")
        rows = [
            (
                consent.subscription.mailing_list.name,
                _when(consent.given_at),
                consent.get_source_display(),
                consent.source_detail,
                consent.ip or "-",
                consent.user_agent or "-",
                consent.consent_text or "-",
                _confirmation(consent),
            )
            for consent in consents.order_by("given_at")
        ]
        if not rows:
            return "-"
        line = "<li><strong>{}</strong> · {} · {} ({}) · IP {} · {}<br>«{}» · {}</li>"
        return format_html("<ul>{}</ul>", format_html_join("", line, rows))


def _confirmation(consent: Consent) -> str:
    if consent.confirmed_at is None:
        return _("not confirmed")
    return _("confirmed %(when)s") % {"when": _when(consent.confirmed_at)}


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
