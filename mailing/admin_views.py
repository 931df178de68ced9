"""Snippet view classes that apply the ownership rule to every object they load.

Wagtail 8's generic edit / delete / inspect / history / usage views load any object
by id and check only model permissions, its index view filters nothing and its
chooser lists every row. Each class here asks the permission policy about the
object itself (Wagtail answers PermissionDenied with a redirect to the admin home
and a message) and lists only `for_user` rows.
"""

import tempfile
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models.functions import Lower
from django.http import FileResponse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, pgettext_lazy
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column
from wagtail.admin.widgets import ListingButton
from wagtail.snippets.views import chooser, snippets

from .admin_scoping import valid_pks
from .admin_values import (
    AddressColumn,
    YesNoColumn,
    exported,
    is_boolean_field,
    readable,
)
from .models import sees_every_owner
from .permissions import policy_for


class RoleGatedMixin:
    """An admin page for users who pass `allowed` (a role test), refused to others."""

    allowed = staticmethod(lambda user: False)

    def dispatch(self, request, *args, **kwargs):
        if not self.allowed(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


PAGE_SIZES = ("20", "50", "100", "200")
# Above this many recipients found, the search joins instead of listing their ids.
SEARCH_MATCHES = 20_000
# An XLSX export stays in memory up to this size, then goes on in a temporary file.
XLSX_IN_MEMORY = 8 * 1024 * 1024
# Rows an export reads at a time (one keyset page).
EXPORT_PAGE = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class OwnedObjectMixin:
    """Loads the object, then refuses it unless the policy allows `object_action`."""

    object_action = "view"

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        policy = policy_for(self.model)
        if not policy.user_has_permission_for_instance(
            self.request.user, self.object_action, obj
        ):
            raise PermissionDenied
        return obj


class CountedPaginator(WagtailPaginator):
    """Wagtail writes the count before the plural name ("3 клиенты", "21
    рассылки"), which Russian declines by the number: the name comes first."""

    @cached_property
    def items_count_label(self):
        return gettext("%(model_name)s: %(count)s") % {
            "model_name": self.verbose_name_plural,
            "count": formats.number_format(self.count, force_grouping=True),
        }


class OwnedIndexView(snippets.IndexView):
    paginator_class = CountedPaginator
    select_related: tuple[str, ...] = ("owner",)
    owner_columns = ("owner", "mailing__owner", "mailing.owner")

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        # A download's rows are written as it streams, after Wagtail has put back
        # the zone it set for the viewer: the zone is kept from the request.
        self.export_zone = timezone.get_current_timezone()
        # The viewset hands `list_export` to each view as it is made (a property
        # here was overwritten by it): an owner's download had the owner column.
        if not sees_every_owner(request.user):
            self.list_export = [
                name for name in self.list_export if name not in self.owner_columns
            ]

    def to_row_dict(self, item):
        return {
            name: exported(self.model, name, value, self.export_zone)
            for name, value in super().to_row_dict(item).items()
        }

    def get_paginate_by(self, queryset):
        # ?per_page= lets a long list show on one page; bounded to these sizes.
        size = self.request.GET.get("per_page")
        if not self.is_export and size in PAGE_SIZES:
            return int(size)
        return super().get_paginate_by(queryset)

    def get_base_queryset(self):
        queryset = self.model._default_manager.for_user(self.request.user)
        return queryset.select_related(*self.select_related)

    def _get_custom_column(self, field_name, column_class=Column, **kwargs):
        if column_class is Column and is_boolean_field(self.model, field_name):
            column_class = YesNoColumn
        return super()._get_custom_column(field_name, column_class, **kwargs)

    def get_list_buttons(self, instance):
        # Drop a "More" menu that only repeats the link of the row's title (an
        # attempt's "Inspect", a manager's on a client): one more control per row
        # to no end, and on the Attempts listing a third of its render time.
        title_url = self.get_edit_url(instance) or self.get_inspect_url(instance)
        return [
            button
            for button in super().get_list_buttons(instance)
            if {item.url for item in getattr(button, "dropdown_buttons", [button])}
            != {title_url}
        ]

    @cached_property
    def may_act_in_bulk(self) -> bool:
        # The bulk actions of owned models delete rows or change them (adding
        # clients to a list): both need one of these rights.
        return bool(self.user_has_any_permission({"change", "delete"}))

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs, may_act_in_bulk=self.may_act_in_bulk)

    @cached_property
    def columns(self):
        columns = super().columns
        # Without the rights the bulk actions need, ticking rows led to Wagtail's
        # refusal page, row after row (a manager's, an owner's attempts).
        if not self.may_act_in_bulk:
            columns = [
                c for c in columns if not isinstance(c, BulkActionsCheckboxColumn)
            ]
        # The owner column means something only to those who see every owner.
        if not sees_every_owner(self.request.user):
            return [c for c in columns if c.name not in self.owner_columns]
        return [
            AddressColumn.replacing(c) if c.name in self.owner_columns else c
            for c in columns
        ]

    def _allowed(self, action, instance):
        return policy_for(self.model).user_has_permission_for_instance(
            self.request.user, action, instance
        )

    def get_edit_url(self, instance):
        if self._allowed("change", instance):
            return super().get_edit_url(instance)

    def get_delete_url(self, instance):
        if self._allowed("delete", instance):
            return super().get_delete_url(instance)


class OwnedCreateView(snippets.CreateView):
    # Wagtail's "New" is "Новый" whatever the model's gender ("Новый: Рассылка");
    # a noun agrees with none of them (site_config/wagtail_wording.py).
    page_title = pgettext_lazy("title of a create form", "New")


class OwnedEditView(OwnedObjectMixin, snippets.EditView):
    object_action = "change"


class OwnedDeleteView(OwnedObjectMixin, snippets.DeleteView):
    object_action = "delete"


class OwnedInspectView(OwnedObjectMixin, snippets.InspectView):
    object_action = "view"

    def get_field_display_value(self, field_name, field):
        value = super().get_field_display_value(field_name, field)
        # Wagtail's template prints the value through |localize, which formats
        # without moving it to the viewer's time zone: 5:16 here, 8:16 in listings.
        if isinstance(value, datetime) and timezone.is_aware(value):
            value = timezone.localtime(value)
        return readable(value)

    def get_edit_url(self):
        if policy_for(self.model).user_has_permission_for_instance(
            self.request.user, "change", self.object
        ):
            return super().get_edit_url()

    def get_delete_url(self):
        if policy_for(self.model).user_has_permission_for_instance(
            self.request.user, "delete", self.object
        ):
            return super().get_delete_url()


class OwnedHistoryView(OwnedObjectMixin, snippets.HistoryView):
    # Managers only view, and the history is where their actions are recorded.
    any_permission_required = ["add", "change", "delete", "view"]
    object_action = "view"


class OwnedUsageView(OwnedObjectMixin, snippets.UsageView):
    permission_required = "view"
    object_action = "view"


class MailingInspectView(OwnedInspectView):
    """Adds the mailing's page actions to its header and its latest run's progress."""

    template_name = "mailing/admin/mailing_inspect.html"

    def get_context_data(self, **kwargs):
        from .services import run_progress

        return {
            **super().get_context_data(**kwargs),
            "progress": run_progress(self.object),
            "schedule_zone": self.schedule_zone,
        }

    @cached_property
    def schedule_zone(self):
        from .scheduling import mailing_zone

        return mailing_zone(self.object)

    def get_field_display_value(self, field_name, field):
        # Wagtail's inspect template formats values with |localize, which skips the
        # conversion to a time zone (it showed UTC): the owner's wall clock here.
        value = super().get_field_display_value(field_name, field)
        if isinstance(value, datetime) and timezone.is_aware(value):
            return timezone.localtime(value, self.schedule_zone)
        return value

    @cached_property
    def header_buttons(self):
        from .admin_actions import mailing_action_buttons

        return [
            *super().header_buttons,
            *mailing_action_buttons(self.request, self.object, in_header=True),
        ]

    @cached_property
    def header_more_buttons(self):
        from wagtail.admin.widgets import Button

        from .admin_actions import mailing_action_buttons

        return [
            *super().header_more_buttons,
            *mailing_action_buttons(self.request, self.object, Button, in_header=False),
        ]


class MailingIndexView(OwnedIndexView):
    select_related = ("owner", "message")

    def get_base_queryset(self):
        from django.db.models import Exists, OuterRef

        from .control import LIVE_RUN
        from .models import MailingRun

        live = MailingRun.objects.filter(mailing=OuterRef("pk"), status__in=LIVE_RUN)
        return super().get_base_queryset().annotate(has_live_run=Exists(live))

    def get_list_more_buttons(self, instance):
        from .admin_actions import mailing_action_buttons

        buttons = super().get_list_more_buttons(instance)
        return [
            *buttons,
            *mailing_action_buttons(self.request, instance, ListingButton),
        ]


class AttemptIndexView(OwnedIndexView):
    """Newest first by keyset (mailing.keyset): no count, no OFFSET, no re-sorting
    by other columns, which at millions of rows would each read the whole table.
    The search finds recipients by the start of their address (an index range)."""

    select_related = ("mailing", "mailing__owner", "client", "run")

    def get_base_queryset(self):
        user = self.request.user
        if sees_every_owner(user):
            return super().get_base_queryset()
        return self.model._default_manager.filter(
            mailing_id__any_of=self.own_mailings
        ).select_related(*self.select_related)

    @cached_property
    def own_mailings(self) -> list[int]:
        """The owner's mailings as a list of ids, not a join: the planner then
        weighs each mailing's rows (a small owner beside a big one reads its own
        index range instead of walking the big owner's rows newest first)."""
        from .models import Mailing

        mailings = Mailing.objects.for_user(self.request.user)
        return list(mailings.values_list("pk", flat=True))

    def get_valid_orderings(self):
        return []

    @cached_property
    def columns(self):
        columns = super().columns
        for column in columns:
            column.sort_key = None
        return columns

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        from .lookups import ids_of
        from .models import Client

        address = self.search_query.strip().lower()
        clients = (
            Client.objects.for_user(self.request.user)
            .alias(address=Lower("email"))
            .filter(address__startswith=address)
            .order_by()
        )
        # Matching ids as one constant array (mailing.lookups): walking the
        # attempts newest first then checks each row against a hash (as a join it
        # looked each row's client up by primary key, 50,000 times for a prefix as
        # short as "reader4" at ten million attempts). Read as one array value:
        # as 11,111 rows, they cost the page more CPU than its other queries.
        ids = ids_of(clients[: SEARCH_MATCHES + 1])
        if len(ids) > SEARCH_MATCHES:
            return queryset.filter(client__in=clients.values("pk"))
        return queryset.filter(client_id__any_of=ids)

    def get(self, request, *args, **kwargs):
        # Wagtail's export reads the whole listing into memory (and counts it)
        # before writing a row; at millions of attempts that is the server's
        # memory. Here the rows go out as they are read, a keyset page at a time.
        if self.is_export:
            listing = Listing(self.get_queryset())
            return self.as_spreadsheet(listing, request.GET.get("export"))
        return super().get(request, *args, **kwargs)

    def write_xlsx_response(self, queryset):
        # The workbook is written to a file that spills to disk, not to memory.
        output = tempfile.SpooledTemporaryFile(max_size=XLSX_IN_MEMORY)
        self.write_xlsx(queryset, output)
        output.seek(0)
        return FileResponse(
            output,
            as_attachment=True,
            content_type=XLSX_TYPE,
            filename=f"{self.get_filename()}.xlsx",
        )

    def paginate_queryset(self, queryset, page_size):
        from .keyset import Key, KeysetPaginator

        paginator = KeysetPaginator(queryset, page_size, self.get_base_queryset())
        page = paginator.page(
            after=Key.parse(self.request.GET.get("after")),
            before=Key.parse(self.request.GET.get("before")),
        )
        return (paginator, page, page.object_list, page.has_other_pages())


class Listing:
    """The attempts of a listing, read newest first a page at a time; what Wagtail's
    export writers ask of a queryset (its model, for the headings, and its rows)."""

    def __init__(self, queryset):
        # Only the rows' exported relations: a run and its fields cost each row.
        self.queryset = queryset.select_related(None).select_related(
            "mailing__owner", "client"
        )
        self.model = queryset.model

    def __iter__(self):
        from .keyset import every_row

        return every_row(self.queryset, EXPORT_PAGE)


# --- Choosers: list and return only what the user may see --------------------------


class OwnedChooseMixin:
    def get_object_list(self):
        return self.model_class._default_manager.for_user(self.request.user)


class OwnedChooseView(OwnedChooseMixin, chooser.ChooseView):
    pass


class OwnedChooseResultsView(OwnedChooseMixin, chooser.ChooseResultsView):
    pass


class OwnedChosenView(chooser.SnippetChosenView):
    def get_object(self, pk):
        mine = self.model_class._default_manager.for_user(self.request.user)
        return mine.get(pk__in=valid_pks(self.model_class, [pk]))


class OwnedChosenMultipleView(chooser.SnippetChosenMultipleView):
    def get_objects(self, pks):
        return self.model_class._default_manager.for_user(self.request.user).filter(
            pk__in=valid_pks(self.model_class, pks)
        )


class NoCreationFromChooserView(chooser.SnippetCreateView):
    """Creating from a chooser would bypass the owner-setting form, so the chooser
    has no "create" tab; its address refuses everyone (Wagtail still routes it, and
    with no form it failed with a 500)."""

    def can_create(self):
        return False


class OwnedChooserViewSet(chooser.SnippetChooserViewSet):
    choose_view_class = OwnedChooseView
    choose_results_view_class = OwnedChooseResultsView
    chosen_view_class = OwnedChosenView
    chosen_multiple_view_class = OwnedChosenMultipleView
    create_view_class = NoCreationFromChooserView
    creation_form_class = None
