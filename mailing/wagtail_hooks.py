"""The mailing workspace in the Wagtail admin.

Order (STYLE.md): filter sets, viewsets, one SnippetViewSetGroup, one
register_snippet; then the hooks. Ownership is decided by mailing.permissions
(registered in MailingConfig.ready) and enforced per object by mailing.admin_views.
"""

import django_filters
from django import forms
from django.apps import apps
from django.templatetags.static import static
from django.urls import path, reverse_lazy
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.viewsets.base import ViewSet
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from accounts.models import User

from . import (
    admin_actions,
    admin_audiences,
    admin_composition,
    admin_imports,
    admin_newsletter,
    admin_reports,
    admin_scoping,
    admin_segments,
    admin_subscribe,
    admin_suppression,
    admin_views,
    dashboard,
    moderation,
)
from .admin_run_filter import RunFilter
from .admin_values import YesNoColumn
from .api import token_admin
from .api.permissions import may_use_api
from .forms import (
    EmailLayoutForm,
    MailingForm,
    MailingListForm,
    MessageForm,
    SenderIdentityForm,
    time_zone_choices,
)
from .models import (
    Attempt,
    Client,
    ClientField,
    EmailLayout,
    Mailing,
    MailingList,
    Message,
    OwnedLogEntry,
    Segment,
    SenderIdentity,
    Suppression,
    is_owned_model,
    sees_every_owner,
    works_only_with_mailings,
)

# --- Filter sets ---------------------------------------------------------------------


class OwnerFilterSet(WagtailFilterSet):
    """Adds the owner filter for those who see every owner, and only for them."""

    owner_field = "owner"

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is None or not sees_every_owner(request.user):
            self.filters.pop("owner", None)

    @classmethod
    def owner_filter(cls, field_name="owner"):
        return django_filters.ModelChoiceFilter(
            field_name=field_name,
            label=capfirst(_("owner")),
            queryset=User.objects.filter(is_superuser=False).order_by("email"),
        )


def owned_filterset(model, fields=()):
    """A filter set for an owned model: the owner filter, plus these fields."""
    meta = type("Meta", (), {"model": model, "fields": list(fields)})
    attrs = {"owner": OwnerFilterSet.owner_filter(), "Meta": meta}
    return type(f"{model.__name__}FilterSet", (OwnerFilterSet,), attrs)


class ClientFilterSet(
    OwnerFilterSet, admin_audiences.ListMembershipFilters, admin_segments.TagFilter
):
    owner = OwnerFilterSet.owner_filter()
    unsubscribed = django_filters.BooleanFilter(
        field_name="unsubscribed_at",
        lookup_expr="isnull",
        exclude=True,
        label=_("unsubscribed"),
    )

    class Meta:
        model = Client
        fields = []


class SuppressionFilterSet(OwnerFilterSet, admin_suppression.AddressFilterSet):
    owner = OwnerFilterSet.owner_filter()

    class Meta:
        model = Suppression
        fields = ["reason"]


class MailingFilterSet(OwnerFilterSet):
    owner = OwnerFilterSet.owner_filter()

    class Meta:
        model = Mailing
        fields = ["status", "periodicity", "is_enabled"]


def visible_mailings(request):
    if request is None:
        return Mailing.objects.none()
    return Mailing.objects.for_user(request.user).order_by("name")


class AttemptFilterSet(OwnerFilterSet):
    owner = OwnerFilterSet.owner_filter("mailing__owner")
    # Only the viewer's mailings are choices.
    mailing = django_filters.ModelChoiceFilter(
        label=capfirst(_("mailing")), queryset=visible_mailings
    )
    run = RunFilter(label=capfirst(_("run")))

    class Meta:
        model = Attempt
        fields = ["status"]


# --- Viewsets ------------------------------------------------------------------------


class OwnedSnippetViewSet(SnippetViewSet):
    """Every view of the viewset goes through the ownership rule."""

    index_view_class = admin_views.OwnedIndexView
    index_template_name = "mailing/admin/owned_index.html"
    add_view_class = admin_views.OwnedCreateView
    edit_view_class = admin_views.OwnedEditView
    delete_view_class = admin_views.OwnedDeleteView
    inspect_view_class = admin_views.OwnedInspectView
    history_view_class = admin_views.OwnedHistoryView
    usage_view_class = admin_views.OwnedUsageView
    chooser_viewset_class = admin_views.OwnedChooserViewSet
    inspect_view_enabled = True
    copy_view_enabled = False
    search_backend_name = None  # plain ORM search: no search index to keep in sync
    list_per_page = 50
    # Wagtail's "Add %(model_name)s" puts the name in the nominative, which
    # Russian declines: "Добавить рассылка". A viewset names its own button.
    add_item_label = None

    def get_index_view_kwargs(self, **kwargs):
        if self.add_item_label:
            kwargs.setdefault("add_item_label", self.add_item_label)
        return super().get_index_view_kwargs(**kwargs)

    @property
    def breadcrumbs_items(self):
        # Wagtail 8's SnippetViewSet labels "Home" with an eager gettext when the
        # admin URLs load, in LANGUAGE_CODE: English users read "Главная" on every
        # page of these viewsets. A lazy label follows each user's language.
        return [{"url": reverse_lazy("wagtailadmin_home"), "label": _("Home")}]


class ClientViewSet(OwnedSnippetViewSet):
    model = Client
    index_view_class = admin_imports.ClientIndexView
    inspect_view_class = admin_subscribe.ClientInspectView
    admin_url_namespace = "mailing_client"
    add_item_label = _("Add client")
    base_url_path = "mailing/clients"
    icon = "user"
    menu_label = _("Clients")
    list_display = [
        "email",
        "full_name",
        admin_audiences.lists_column(),
        admin_segments.tags_column(),
        "owner",
        "created_at",
    ]
    list_export = [
        "email",
        "full_name",
        "comment",
        "tags",
        "attributes_text",
        "owner",
        "created_at",
    ]
    export_filename = "clients"
    search_fields = ["email", "full_name"]
    filterset_class = ClientFilterSet
    ordering = ["email"]
    inspect_view_fields = [
        "email",
        "full_name",
        "comment",
        "owner",
        "time_zone",
        "tags",
        "attributes",
        "created_at",
        "unsubscribed_at",
        "suppressed_reason",
        "consents",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("email"),
            FieldPanel("full_name"),
            FieldPanel("comment"),
            FieldPanel("time_zone", widget=forms.Select(choices=time_zone_choices)),
            FieldPanel("tags"),
            FieldPanel("attributes"),
        ],
        base_form_class=admin_segments.ClientAttributesForm,
    )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("import/", admin_imports.ClientImportView.as_view(), name="import"),
            path(
                "import/<int:job_id>/",
                admin_imports.ImportJobView.as_view(),
                name="import_job",
            ),
            path(
                "import/<int:job_id>/status/",
                admin_imports.import_status,
                name="import_status",
            ),
            path(
                "import/<int:job_id>/rejected.csv",
                admin_imports.import_rejected_rows,
                name="import_rejected",
            ),
            path(
                "export_data/<int:pk>/",
                admin_suppression.export_client_data,
                name="export_data",
            ),
            path(
                "erase/<int:pk>/",
                admin_suppression.EraseClientView.as_view(),
                name="erase",
            ),
        ]


class MailingListViewSet(OwnedSnippetViewSet):
    model = MailingList
    index_view_class = admin_audiences.MailingListIndexView
    admin_url_namespace = "mailing_mailinglist"
    base_url_path = "mailing/lists"
    icon = "list-ul"
    menu_label = _("Lists")
    list_display = [
        "name",
        *admin_audiences.count_columns(),
        "owner",
        "created_at",
    ]
    list_export = ["name", "description", "owner", "created_at"]
    export_filename = "lists"
    search_fields = ["name"]
    filterset_class = owned_filterset(MailingList)
    ordering = ["name"]
    inspect_view_fields = [
        "name",
        "description",
        "members_by_status",
        "owner",
        "created_at",
    ]
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("description")],
        base_form_class=MailingListForm,
    )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "subscribe_form/<int:pk>/",
                admin_subscribe.SubscribeFormView.as_view(),
                name="subscribe_form",
            ),
            path(
                "export_members/<int:pk>/",
                admin_audiences.export_members,
                name="export_members",
            ),
        ]


class ClientFieldViewSet(OwnedSnippetViewSet):
    model = ClientField
    admin_url_namespace = "mailing_clientfield"
    base_url_path = "mailing/client-fields"
    icon = "form"
    menu_label = _("Client fields")
    list_display = ["label", "key", "kind", "owner", "created_at"]
    list_export = ["label", "key", "kind", "owner", "created_at"]
    export_filename = "client-fields"
    search_fields = ["label", "key"]
    filterset_class = owned_filterset(ClientField, ["kind"])
    ordering = ["label"]
    inspect_view_fields = ["label", "key", "kind", "owner", "created_at"]
    edit_handler = ObjectList(
        [FieldPanel("label"), FieldPanel("key"), FieldPanel("kind")],
        base_form_class=admin_segments.ClientFieldForm,
    )


class SegmentViewSet(OwnedSnippetViewSet):
    model = Segment
    index_view_class = admin_segments.SegmentIndexView
    edit_view_class = admin_segments.SegmentEditView
    admin_url_namespace = "mailing_segment"
    base_url_path = "mailing/segments"
    icon = "crosshairs"
    menu_label = _("Segments")
    list_display = [
        "name",
        admin_segments.conditions_column(),
        "owner",
        "updated_at",
    ]
    list_export = ["name", "match", "rules_text", "owner", "updated_at"]
    export_filename = "segments"
    search_fields = ["name"]
    filterset_class = owned_filterset(Segment)
    ordering = ["name"]
    inspect_view_fields = ["name", "match", "rules", "owner", "created_at"]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("match"),
            FieldPanel("rules"),
        ],
        base_form_class=admin_segments.SegmentForm,
    )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("count/", admin_segments.SegmentCountView.as_view(), name="count"),
            path(
                "export_members/<int:pk>/",
                admin_segments.export_segment,
                name="export_members",
            ),
        ]


class SuppressionViewSet(OwnedSnippetViewSet):
    model = Suppression
    admin_url_namespace = "mailing_suppression"
    base_url_path = "mailing/suppressions"
    icon = "cross"
    menu_label = _("Suppressed addresses")
    index_view_class = admin_suppression.SuppressionIndexView
    list_display = ["__str__", "reason", "detail", "created_at", "owner"]
    list_export = ["address_hash", "reason", "detail", "created_at", "owner"]
    export_filename = "suppressed-addresses"
    filterset_class = SuppressionFilterSet
    ordering = ["-created_at"]
    inspect_view_fields = ["address_hash", "reason", "detail", "created_at", "owner"]
    edit_handler = ObjectList(
        [FieldPanel("email"), FieldPanel("detail")],
        base_form_class=admin_suppression.SuppressionForm,
    )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "remove/<int:pk>/",
                admin_suppression.RemoveSuppressionView.as_view(),
                name="remove",
            ),
        ]


class MessageViewSet(OwnedSnippetViewSet):
    model = Message
    edit_view_class = admin_composition.MessageEditView
    admin_url_namespace = "mailing_message"
    base_url_path = "mailing/messages"
    icon = "doc-full"
    menu_label = _("Messages")
    list_display = ["subject", "owner", "created_at", "updated_at"]
    list_export = ["subject", "body", "owner", "created_at"]
    export_filename = "messages"
    search_fields = ["subject", "body"]
    filterset_class = owned_filterset(Message)
    ordering = ["-created_at"]
    inspect_view_fields = [
        "subject",
        "layout",
        "sender",
        "body",
        "html_body",
        "owner",
        "created_at",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("subject"),
            FieldPanel("layout", widget=forms.Select),
            FieldPanel("sender", widget=forms.Select),
            FieldPanel("html_body"),
            FieldPanel("body"),
        ],
        base_form_class=MessageForm,
    )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "send_test/<int:pk>/",
                admin_composition.SendTestMessageView.as_view(),
                name="send_test",
            ),
        ]


class EmailLayoutViewSet(OwnedSnippetViewSet):
    model = EmailLayout
    admin_url_namespace = "mailing_emaillayout"
    base_url_path = "mailing/layouts"
    icon = "table"
    menu_label = _("Layouts")
    list_display = ["name", "language", "owner", "updated_at"]
    list_export = ["name", "language", "owner", "updated_at"]
    export_filename = "layouts"
    search_fields = ["name"]
    filterset_class = owned_filterset(EmailLayout, ["language"])
    ordering = ["name"]
    inspect_view_fields = ["name", "language", "owner", "created_at", "updated_at"]
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("language"), FieldPanel("body")],
        base_form_class=EmailLayoutForm,
    )


class SenderIdentityViewSet(OwnedSnippetViewSet):
    model = SenderIdentity
    admin_url_namespace = "mailing_senderidentity"
    add_item_label = _("Add sender identity")
    base_url_path = "mailing/senders"
    icon = "user"
    menu_label = _("Sender identities")
    add_view_class = admin_composition.SenderIdentityCreateView
    edit_view_class = admin_composition.SenderIdentityEditView
    list_display = ["from_name", "from_email", "confirmed_at", "owner"]
    list_export = ["from_name", "from_email", "reply_to", "confirmed_at", "owner"]
    export_filename = "sender-identities"
    search_fields = ["from_name", "from_email"]
    filterset_class = owned_filterset(SenderIdentity)
    ordering = ["from_email"]
    inspect_view_fields = [
        "from_name",
        "from_email",
        "reply_to",
        "postal_address",
        "confirmed_at",
        "owner",
        "created_at",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("from_name"),
            FieldPanel("from_email"),
            FieldPanel("reply_to"),
            FieldPanel("postal_address"),
        ],
        base_form_class=SenderIdentityForm,
    )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "resend/<int:pk>/",
                admin_composition.ResendConfirmationView.as_view(),
                name="resend",
            ),
        ]


class MailingViewSet(OwnedSnippetViewSet):
    model = Mailing
    admin_url_namespace = "mailing_mailing"
    add_item_label = _("Add mailing")
    base_url_path = "mailing/mailings"
    icon = "mail"
    menu_label = _("Mailings")
    index_view_class = admin_views.MailingIndexView
    inspect_view_class = admin_views.MailingInspectView
    copy_view_enabled = True
    copy_view_class = admin_actions.MailingCopyView
    list_display = [
        "name",
        "message",
        "status",
        "periodicity",
        "is_enabled",
        # The field's own label ("Track opens and clicks") is too long for a
        # header: in Russian it squeezed the name and its buttons to a sliver.
        YesNoColumn(
            "track_engagement", label=_("Tracking"), sort_key="track_engagement"
        ),
        "next_send_at",
        "owner",
    ]
    list_export = [
        "name",
        "message",
        "status",
        "periodicity",
        "is_enabled",
        "first_send_at",
        "next_send_at",
        "end_at",
        "owner",
    ]
    export_filename = "mailings"
    search_fields = ["name", "message__subject"]
    filterset_class = MailingFilterSet
    ordering = ["-created_at"]
    inspect_view_fields = [
        "name",
        "message",
        "first_send_at",
        "periodicity",
        "end_at",
        "window_start",
        "window_end",
        "is_digest",
        "public_archive",
        "status",
        "is_enabled",
        "is_paused",
        "track_engagement",
        "next_send_at",
        "owner",
        "created_at",
        "updated_at",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("message", widget=forms.Select),
            FieldPanel("lists", widget=forms.CheckboxSelectMultiple),
            FieldPanel("all_clients"),
            FieldPanel("segment", widget=forms.Select),
            FieldPanel("first_send_at"),
            FieldPanel("periodicity"),
            FieldPanel("end_at"),
            FieldRowPanel(
                [FieldPanel("window_start"), FieldPanel("window_end")],
                heading=_("Delivery window"),
                help_text=_(
                    "Each recipient gets the mailing between these times of their "
                    "own day, in their time zone (or yours when they have none)."
                ),
            ),
            FieldPanel("track_engagement"),
            FieldPanel("is_digest"),
            FieldPanel("public_archive"),
        ],
        base_form_class=MailingForm,
    )

    def get_urlpatterns(self):
        def route(name, view, **initkwargs):
            return path(f"{name}/<int:pk>/", view.as_view(**initkwargs), name=name)

        return [
            *super().get_urlpatterns(),
            path(
                "audience_count/",
                admin_audiences.AudienceCountView.as_view(),
                name="audience_count",
            ),
            route("send_now", admin_actions.SendNowView),
            route("send_unknown", admin_actions.SendUnknownView),
            route("send_test", admin_actions.SendTestView),
            route("preview", admin_actions.PreviewView),
            route("report", admin_reports.MailingReportView),
            route("disable", admin_actions.ToggleMailingView, enable=False),
            route("enable", admin_actions.ToggleMailingView, enable=True),
            route("pause", admin_actions.PauseMailingView),
            route("resume", admin_actions.ResumeMailingView),
            route("cancel", admin_actions.CancelMailingView),
            *(
                path(
                    f"{verb}_run/<int:pk>/<int:run_id>/",
                    admin_actions.RunActionView.as_view(verb=verb),
                    name=f"{verb}_run",
                )
                for verb in ("pause", "resume", "cancel")
            ),
        ]


class AttemptViewSet(OwnedSnippetViewSet):
    model = Attempt
    admin_url_namespace = "mailing_attempt"
    base_url_path = "mailing/attempts"
    icon = "list-ul"
    menu_label = _("Attempts")
    index_view_class = admin_views.AttemptIndexView
    # Newer / older links instead of page numbers and a count (mailing.keyset).
    index_results_template_name = "mailing/admin/attempt_results.html"
    list_display = ["mailing", "client", "status", "attempted_at", "response_shown"]
    list_export = [
        "mailing",
        "client.email",
        "status",
        "attempted_at",
        "response_shown",
        "esp_message_id",
        "mailing.owner",
    ]
    # Wagtail names a dotted path's column by the path itself ("client.email").
    export_headings = {"client.email": _("Recipient"), "mailing.owner": _("Owner")}
    export_filename = "attempts"
    search_fields = ["client__email"]
    filterset_class = AttemptFilterSet
    ordering = ["-attempted_at", "-id"]
    inspect_view_fields = [
        "mailing",
        "client",
        "run",
        "status",
        "attempted_at",
        "response_shown",
        "esp_message_id",
        "tries",
    ]


class ShownIfMenuItem(MenuItem):
    """A menu item shown only to users that pass the viewset's `is_shown_to`."""

    test = staticmethod(lambda user: False)

    def is_shown(self, request):
        return self.test(request.user)


class RoleGatedViewSet(ViewSet):
    """Admin pages whose menu entry shows only to users who pass `shown_to`."""

    shown_to = staticmethod(lambda user: False)

    @property
    def menu_item_class(self):
        return type(
            f"{self.name}MenuItem",
            (ShownIfMenuItem,),
            {"test": staticmethod(self.shown_to)},
        )


class ReportViewSet(RoleGatedViewSet):
    name = "mailing_reports"
    icon = "table"
    menu_label = _("Reports")
    shown_to = staticmethod(admin_reports.may_view_mailings)

    def get_urlpatterns(self):
        return [path("", admin_reports.ReportIndexView.as_view(), name="index")]


class UserViewSet(RoleGatedViewSet):
    name = "mailing_users"
    icon = "group"
    menu_label = _("Users")
    shown_to = staticmethod(moderation.may_block)

    def get_urlpatterns(self):
        return [
            path("", admin_actions.UserIndexView.as_view(), name="index"),
            path(
                "block/<int:pk>/",
                admin_actions.BlockUserView.as_view(block=True),
                name="block",
            ),
            path(
                "unblock/<int:pk>/",
                admin_actions.BlockUserView.as_view(block=False),
                name="unblock",
            ),
        ]


class ApiTokenViewSet(RoleGatedViewSet):
    name = "mailing_api_tokens"
    icon = "key"
    menu_label = token_admin.PAGE_TITLE
    shown_to = staticmethod(may_use_api)

    def get_urlpatterns(self):
        return [
            path("", token_admin.TokenIndexView.as_view(), name="index"),
            path(
                "revoke/<int:pk>/",
                token_admin.RevokeTokenView.as_view(),
                name="revoke",
            ),
        ]


# --- The group -------------------------------------------------------------------


class MailingGroup(SnippetViewSetGroup):
    menu_label = _("Mailing")
    menu_icon = "mail"
    menu_order = 150
    items = (
        ClientViewSet,
        ClientFieldViewSet,
        MailingListViewSet,
        SegmentViewSet,
        SuppressionViewSet,
        MessageViewSet,
        EmailLayoutViewSet,
        SenderIdentityViewSet,
        MailingViewSet,
        AttemptViewSet,
        ReportViewSet,
        UserViewSet,
        ApiTokenViewSet,
    )


register_snippet(MailingGroup)


# --- Hooks -----------------------------------------------------------------------

# Menus that mean nothing to someone who works only with mailings.
CONTENT_MENU_ITEMS = {"explorer", "images", "documents", "snippets"}


@hooks.register("construct_main_menu")
def hide_content_menus_from_mailing_roles(request, menu_items):
    if works_only_with_mailings(request.user):
        menu_items[:] = [
            item for item in menu_items if item.name not in CONTENT_MENU_ITEMS
        ]


@hooks.register("construct_help_menu")
def hide_wagtail_guides_from_mailing_roles(request, menu_items):
    """Wagtail's release notes and editor guide are about pages, not mailings."""
    if works_only_with_mailings(request.user):
        menu_items[:] = [
            item for item in menu_items if item.name == "keyboard-shortcuts-trigger"
        ]


@hooks.register("insert_global_admin_css")
def admin_css():
    return format_html('<link rel="stylesheet" href="{}">', static("css/admin.css"))


@hooks.register("construct_homepage_panels")
def add_dashboard_panels(request, panels):
    panels.extend(dashboard.panels_for(request.user))


@hooks.register("register_log_actions")
def log_owned_models_apart(actions):
    for model in apps.get_app_config("mailing").get_models():
        if is_owned_model(model):
            actions.register_model(model, OwnedLogEntry)


@hooks.register("register_log_actions")
def register_moderation_actions(actions):
    actions.register_action(
        moderation.DISABLE_ACTION, _("Disable mailing"), _("Mailing disabled")
    )
    actions.register_action(
        moderation.ENABLE_ACTION, _("Re-enable mailing"), _("Mailing re-enabled")
    )
    actions.register_action(moderation.BLOCK_ACTION, _("Block user"), _("User blocked"))
    actions.register_action(
        moderation.UNBLOCK_ACTION, _("Unblock user"), _("User unblocked")
    )


# Wagtail registers its own bulk actions at order 0; these replace them (same model
# and action name, scanned later) with ones that load only what the viewer may see.
hooks.register("register_bulk_action", admin_scoping.OwnedDeleteBulkAction, order=1)
hooks.register("register_bulk_action", admin_audiences.AddToListBulkAction)
for _action in admin_scoping.scoped_wagtail_bulk_actions():
    hooks.register("register_bulk_action", _action, order=1)

hooks.register("construct_page_chooser_queryset", admin_scoping.narrow_page_chooser)


# "Send as newsletter" on a blog post's action menu (issue 14).
@hooks.register("register_page_action_menu_item")
def newsletter_menu_item():
    return admin_newsletter.NewsletterMenuItem()


@hooks.register("register_admin_urls")
def newsletter_urls():
    return [
        path(
            "mailing/newsletter/<int:page_id>/",
            admin_newsletter.SendNewsletterView.as_view(),
            name="mailing_send_newsletter",
        )
    ]
