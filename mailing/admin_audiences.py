"""Lists in the admin (issue 12): the lists listing with its member counts, the
clients listing's lists column and filters, and "add selected to list"."""

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import FileResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, NumberColumn
from wagtail.admin.widgets import ListingButton
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from . import audiences, list_exports
from .admin_scoping import ScopedBulkActionMixin
from .admin_views import OwnedIndexView, RoleGatedMixin
from .list_counts import with_stored_counts
from .models import Client, Mailing, MailingList, Segment, Subscription
from .permissions import policy_for

Status = Subscription.Status
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def visible_lists(request):
    if request is None:
        return MailingList.objects.none()
    return MailingList.objects.for_user(request.user).order_by("name")


class ListMembershipFilters(WagtailFilterSet):
    """On the clients listing: members of a list, with a status (any list when
    no list is chosen). Both apply together, in one EXISTS."""

    mailing_list = django_filters.ModelChoiceFilter(
        label=capfirst(_("list")), queryset=visible_lists, method="by_membership"
    )
    list_status = django_filters.ChoiceFilter(
        label=capfirst(_("subscription status")),
        choices=Status.choices,
        method="by_membership",
    )

    def by_membership(self, queryset, name, value):
        return queryset  # filter_queryset applies both at once

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        lookup = {}
        if data.get("mailing_list"):
            lookup["mailing_list"] = data["mailing_list"]
        if data.get("list_status"):
            lookup["status"] = data["list_status"]
        if not lookup:
            return queryset
        members = Subscription.objects.filter(client=OuterRef("pk"), **lookup)
        return queryset.filter(Exists(members))


def lists_of(client: Client) -> str:
    """The client's lists, with the status where it is not `subscribed`."""
    names = []
    for subscription in client.subscriptions.all():  # prefetched by the listing
        name = subscription.mailing_list.name
        if subscription.status != Status.SUBSCRIBED:
            name = f"{name} ({subscription.get_status_display()})"
        names.append(name)
    return ", ".join(sorted(names))


def lists_column() -> Column:
    return Column("lists", label=_("Lists"), accessor=lists_of)


class MailingListIndexView(OwnedIndexView):
    """Lists with how many members each has, by status, from the stored counts:
    the page costs the same for a list of ten and of a million."""

    def get_base_queryset(self):
        return with_stored_counts(super().get_base_queryset())

    def get_list_more_buttons(self, instance):
        from .admin_subscribe import form_button

        return [
            *super().get_list_more_buttons(instance),
            *form_button(self.request.user, instance),
            *export_buttons(self.request.user, instance),
        ]


# --- A list's members as CSV or XLSX ------------------------------------------------


def may_export_members(user, owned) -> bool:
    """Members' personal data (of a list or a segment) goes out to its owner (or
    a superuser) only."""
    allowed = policy_for(type(owned)).user_has_permission_for_instance(
        user, "view", owned
    )
    return allowed and (user.is_superuser or owned.owner_id == user.pk)


def export_buttons(
    user,
    owned,
    url_name: str = "mailing_mailinglist:export_members",
    button_class=ListingButton,
) -> list[ListingButton]:
    """The CSV and XLSX downloads of a list's or a segment's members, for a
    listing's row (or, with Wagtail's plain Button, a page header's menu)."""
    if not may_export_members(user, owned):
        return []
    url = reverse(url_name, args=[owned.pk])
    return [
        button_class(
            label, url=f"{url}?format={kind}", icon_name="download", priority=priority
        )
        for kind, label, priority in (
            (list_exports.CSV, _("Export members (CSV)"), 50),
            (list_exports.XLSX, _("Export members (XLSX)"), 51),
        )
    ]


def export_members(request, pk):
    mailing_list = get_object_or_404(MailingList, pk=pk)
    if not may_export_members(request.user, mailing_list):
        raise PermissionDenied
    rows = list_exports.list_rows(mailing_list)
    return members_download(request, f"list-{mailing_list.pk}-members", rows)


def members_download(request, name: str, rows):
    """`rows` (the header first) as CSV, streamed, or as XLSX (?format=xlsx)."""
    if request.GET.get("format") == list_exports.XLSX:
        return FileResponse(
            list_exports.xlsx_file(rows),
            as_attachment=True,
            filename=f"{name}.xlsx",
            content_type=XLSX_TYPE,
        )
    response = StreamingHttpResponse(
        list_exports.csv_lines(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def count_columns() -> list[Column]:
    return [
        NumberColumn(f"{status}_count", label=label, sort_key=f"{status}_count")
        for status, label in Status.choices
    ]


class ListChoiceForm(forms.Form):
    mailing_list = forms.ModelChoiceField(
        label=_("List"), queryset=MailingList.objects.none()
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the viewer's own lists: a manager sees others' but adds to none.
        self.fields["mailing_list"].queryset = MailingList.objects.filter(
            owner=user
        ).order_by("name")


class AddToListBulkAction(ScopedBulkActionMixin, SnippetBulkAction):
    """Subscribe the selected clients to one of the owner's lists. Clients
    already on it keep their status: an unsubscribe is not undone."""

    display_name = _("Add to list")
    action_type = "add_to_list"
    aria_label = _("Add the selected clients to a list")
    template_name = "mailing/admin/confirm_bulk_add_to_list.html"
    action_priority = 20
    form_class = ListChoiceForm
    models = [Client]
    visible_actions = ("view",)

    def check_perm(self, client):
        user = self.request.user
        return client.owner_id == user.pk and (
            self.permission_policy.user_has_permission_for_instance(
                user, "change", client
            )
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_execution_context(self):
        return {"mailing_list": self.cleaned_form.cleaned_data["mailing_list"]}

    @classmethod
    def execute_action(cls, objects, mailing_list=None, **kwargs):
        clients = Client.objects.filter(pk__in=[client.pk for client in objects])
        return audiences.subscribe(clients, mailing_list), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)d client added to “%(list)s”.",
            "%(count)d clients added to “%(list)s”.",
            num_parent_objects,
        ) % {
            "count": num_parent_objects,
            "list": self.cleaned_form.cleaned_data["mailing_list"].name,
        }


# --- The mailing form's live count ---------------------------------------------------


def may_count(user) -> bool:
    return policy_for(Mailing).user_has_permission(user, "view")


class AudienceCountView(RoleGatedMixin, View):
    """How many a mailing with these lists (or all clients) and segment would reach
    now: the number the mailing form shows as its audience changes. Lists and
    segments of the owner only (the mailing's, when `mailing` names one the viewer
    may see; else the viewer); other ids count as nothing."""

    allowed = staticmethod(may_count)

    def get(self, request):
        owner_id = self._owner_id(request)
        list_ids = MailingList.objects.filter(
            owner_id=owner_id, pk__in=_ids(request.GET.getlist("lists"))
        ).values_list("pk", flat=True)
        everyone = request.GET.get("all_clients") in ("on", "true", "1")
        segment = Segment.objects.filter(
            owner_id=owner_id, pk__in=_ids([request.GET.get("segment", "")])
        ).first()
        count = audiences.count_recipients(owner_id, list(list_ids), everyone, segment)
        text = ngettext(
            "Audience: %(count)s recipient now.",
            "Audience: %(count)s recipients now.",
            count,
        ) % {"count": number_format(count, force_grouping=True)}
        return JsonResponse({"count": count, "text": text})

    def _owner_id(self, request) -> int:
        pk = request.GET.get("mailing", "")
        if pk.isdecimal():
            mailing = Mailing.objects.for_user(request.user).filter(pk=pk).first()
            if mailing is not None:
                return mailing.owner_id
        return request.user.pk


def _ids(values) -> list[int]:
    return [int(value) for value in values if value.isdecimal()]
