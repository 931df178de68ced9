"""The suppression list and data-subject tools in the admin (issue 12).

Owners see their suppressed addresses (only hashes are kept: the search box finds
an address by hashing it), export them, add one by hand and remove one with a
reason that is logged. On a client: export everything about them as JSON, or erase
them, keeping only the hashed suppression entry.
"""

import json

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.widgets import ListingButton

from . import data_subjects, suppression
from .admin_pages import AdminPageMixin, listing_crumb
from .admin_views import OwnedIndexView
from .forms import OwnedModelForm
from .models import Client, Suppression
from .permissions import may_remove_suppression, policy_for


class AddressFilterSet(WagtailFilterSet):
    """Finds an entry by its address: the address typed is hashed like the list."""

    address = django_filters.CharFilter(
        label=gettext_lazy("address"), method="by_address"
    )

    def by_address(self, queryset, name, value):
        return queryset.filter(address_hash=suppression.address_hash(value))


class SuppressionIndexView(OwnedIndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if may_remove_suppression(self.request.user, instance):
            url = reverse("mailing_suppression:remove", args=[instance.pk])
            buttons.append(ListingButton(_("Remove"), url=url, icon_name="cross"))
        return buttons


class SuppressionForm(OwnedModelForm):
    email = forms.EmailField(label=gettext_lazy("Address"))

    class Meta:
        model = Suppression
        fields = ["detail"]

    def save(self, commit=True):
        entry = self.instance
        entry.address_hash = suppression.address_hash(self.cleaned_data["email"])
        entry.reason = Suppression.Reason.MANUAL
        suppression.suppress_address(
            entry.owner_id, self.cleaned_data["email"], entry.reason, entry.detail
        )
        return Suppression.objects.get(
            owner_id=entry.owner_id, address_hash=entry.address_hash
        )


class RemovalForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why may this address be mailed again?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class RemoveSuppressionView(AdminPageMixin, FormView):
    page_title = gettext_lazy("Remove from the suppression list")
    header_icon = "cross"
    template_name = "mailing/admin/form_page.html"
    form_class = RemovalForm

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.entry = get_object_or_404(Suppression, pk=kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        if not may_remove_suppression(request.user, self.entry):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.entry)

    def get_parent_breadcrumbs(self):
        return [listing_crumb(Suppression)]

    def form_valid(self, form):
        suppression.lift(self.entry, self.request.user, form.cleaned_data["note"])
        messages.success(self.request, _("The address may be mailed again."))
        return redirect("mailing_suppression:list")


# --- Data-subject tools on a client ------------------------------------------------


def may_handle_data(user, client: Client) -> bool:
    """Personal data out or erased: the owner (or a superuser), nobody else."""
    allowed = policy_for(Client).user_has_permission_for_instance(
        user, "change", client
    )
    return allowed and (user.is_superuser or client.owner_id == user.pk)


def owned_client(request, pk) -> Client:
    client = get_object_or_404(Client.objects.select_related("owner"), pk=pk)
    if not may_handle_data(request.user, client):
        raise PermissionDenied
    return client


def client_data_buttons(user, client: Client) -> list[ListingButton]:
    if not may_handle_data(user, client):
        return []
    return [
        ListingButton(
            _("Export data (JSON)"),
            url=reverse("mailing_client:export_data", args=[client.pk]),
            icon_name="download",
        ),
        ListingButton(
            _("Erase"),
            url=reverse("mailing_client:erase", args=[client.pk]),
            icon_name="bin",
        ),
    ]


def export_client_data(request, pk):
    client = owned_client(request, pk)
    record = data_subjects.client_record(client)
    body = json.dumps(
        record, cls=data_subjects.JSONEncoder, ensure_ascii=False, indent=2
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="client-{client.pk}.json"'
    return response


class EraseClientForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "Erase this client and everything about them; keep only a hash of the "
            "address so that they are never mailed again."
        )
    )


class EraseClientView(AdminPageMixin, FormView):
    page_title = gettext_lazy("Erase client")
    header_icon = "bin"
    template_name = "mailing/admin/form_page.html"
    form_class = EraseClientForm

    def dispatch(self, request, *args, **kwargs):
        self.client_object = owned_client(request, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.client_object)

    def get_parent_breadcrumbs(self):
        return [listing_crumb(Client)]

    def form_valid(self, form):
        data_subjects.erase_client(self.client_object)
        messages.success(self.request, _("The client is erased."))
        return redirect("mailing_client:list")
