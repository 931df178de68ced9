"""What Wagtail's own generic views list: only what the viewer's policy allows.

Wagtail's bulk-action confirmations load every id in the query string and list the
ones the user may not act on by name; its page chooser lists every page of the tree,
drafts included, to anyone who may open the admin. Here each of them asks the one
policy of its model instead: the permission policy of `mailing.permissions` for the
owned models, Wagtail's page policy for pages (a page title shows only to those who
may edit the page, or must pass through it to reach one they may edit). An id of
an object the viewer may not see is treated like an id that does not exist.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_list_or_404
from django.urls import URLPattern, URLResolver
from django.utils.functional import classproperty
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views import chooser, editing_sessions
from wagtail.admin.views.pages.bulk_actions.delete import (
    DeleteBulkAction as PageDeleteBulkAction,
)
from wagtail.admin.views.pages.bulk_actions.move import MoveBulkAction
from wagtail.admin.views.pages.bulk_actions.publish import PublishBulkAction
from wagtail.admin.views.pages.bulk_actions.unpublish import UnpublishBulkAction
from wagtail.documents.views import bulk_actions as document_actions
from wagtail.documents.views import chooser as document_chooser
from wagtail.images.views import bulk_actions as image_actions
from wagtail.images.views import chooser as image_chooser
from wagtail.models import Page
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.permissions import policy_registry
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.models import get_snippet_models

from .models import is_owned_model

# Any of these on a page (or an ancestor) lets Wagtail show the page in the explorer.
PAGE_EXPLORE_ACTIONS = ("add", "change", "publish", "lock", "unlock", "bulk_delete")


def visible_pages(user):
    """Pages whose titles the user may see: those they may edit, and their ancestors
    on the way down from the first page they may edit (Wagtail's explorable pages)."""
    policy = PagePermissionPolicy()
    if not policy.user_has_any_permission(user, PAGE_EXPLORE_ACTIONS):
        return Page.objects.none()
    return policy.explorable_instances(user)


def valid_pks(model, values) -> list:
    """The values the model's primary key can take: an id that is no number ("abc",
    "1e5") is an id of nothing, where the lookup would raise ValueError (a 500)."""
    field, valid = model._meta.pk, []
    for value in values:
        try:
            valid.append(field.to_python(value))
        except ValidationError:
            continue
    return valid


# --- Bulk actions ----------------------------------------------------------------


class ScopedBulkActionMixin:
    """Loads only the listed objects the viewer may see under the model's policy
    (any of `visible_actions`), 404 if none is left; Wagtail's `check_perm` then
    splits them into those the action may touch and those it may not.

    Wagtail's `get_queryset` is a classmethod without the request; this instance
    method takes its place (Wagtail calls it as `self.get_queryset(...)`)."""

    visible_actions: tuple[str, ...] = ()

    def get_queryset(self, model, object_ids):
        policy = policy_registry.get_by_type(model)
        visible = policy.instances_user_has_any_permission_for(
            self.request.user, self.visible_actions
        )
        return get_list_or_404(visible.filter(pk__in=valid_pks(model, object_ids)))


class OwnedDeleteBulkAction(ScopedBulkActionMixin, DeleteBulkAction):
    """Deleting snippets of owned models: the rows the viewer may see."""

    visible_actions = ("view",)

    @classproperty
    def models(cls):
        return [model for model in get_snippet_models() if is_owned_model(model)]


# Wagtail's own bulk actions, and what lets a viewer see an object of theirs.
WAGTAIL_BULK_ACTIONS = {
    PAGE_EXPLORE_ACTIONS: (
        PageDeleteBulkAction,
        MoveBulkAction,
        PublishBulkAction,
        UnpublishBulkAction,
    ),
    ("choose", "change", "delete"): (
        image_actions.AddTagsBulkAction,
        image_actions.AddToCollectionBulkAction,
        image_actions.DeleteBulkAction,
        document_actions.AddTagsBulkAction,
        document_actions.AddToCollectionBulkAction,
        document_actions.DeleteBulkAction,
    ),
}


def scoped_wagtail_bulk_actions() -> list[type]:
    return [
        type(
            f"Scoped{action.__name__}",
            (ScopedBulkActionMixin, action),
            {"visible_actions": tuple(visible), "__module__": __name__},
        )
        for visible, actions in WAGTAIL_BULK_ACTIONS.items()
        for action in actions
    ]


# --- The page chooser --------------------------------------------------------------


def narrow_page_chooser(pages, request):
    """The `construct_page_chooser_queryset` hook: listings and search results."""
    return pages.filter(pk__in=visible_pages(request.user).values("pk"))


class ScopedPageBrowseView(chooser.BrowseView):
    """The chooser shows the page it is opened at (given, or the common ancestor of
    the page types asked for): only a visible one. The tree's root, titled "Root",
    is where it starts for everyone."""

    def get_object_list(self):
        parent = self.parent_page
        if parent.depth > 1 and not (
            visible_pages(self.request.user).filter(pk=parent.pk).exists()
        ):
            raise Http404
        return super().get_object_list()


class ScopedPageChosenMultipleView(chooser.ChosenMultipleView):
    """Answers with the titles of the chosen ids: only of visible pages."""

    def get(self, request):
        ids = valid_pks(Page, request.GET.getlist("id"))
        visible = visible_pages(request.user).filter(pk__in=ids)
        request.GET = request.GET.copy()
        request.GET.setlist(
            "id", [str(pk) for pk in visible.values_list("pk", flat=True)]
        )
        return super().get(request)


# --- Image and document choosers, editing sessions -----------------------------------


class KnownIdsChosenMixin:
    """Wagtail's chosen views of images and documents, for ids the model's key can
    take: any other is an id of nothing (Wagtail's own lookup raised ValueError)."""

    def get_object(self, pk):
        if not valid_pks(self.model_class, [pk]):
            raise self.model_class.DoesNotExist
        return super().get_object(pk)

    def get_objects(self, pks):
        return super().get_objects(valid_pks(self.model_class, pks))


class KnownIdsImageChosenView(KnownIdsChosenMixin, image_chooser.ImageChosenView):
    pass


class KnownIdsImageChosenMultipleView(
    KnownIdsChosenMixin, image_chooser.ImageChosenMultipleView
):
    pass


class KnownIdsDocumentChosenView(
    KnownIdsChosenMixin, document_chooser.DocumentChosenView
):
    pass


class KnownIdsDocumentChosenMultipleView(
    KnownIdsChosenMixin, document_chooser.DocumentChosenMultipleView
):
    pass


def ping_known_object(request, app_label, model_name, object_id, session_id):
    """Wagtail's editing-session ping, for an object id the model's key can take."""
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError as e:
        raise Http404 from e
    if not valid_pks(model, [unquote(object_id)]):
        raise Http404
    return editing_sessions.ping(request, app_label, model_name, object_id, session_id)


# Wagtail's admin views replaced, by URL name ("namespace:name" inside an include).
SCOPED_ADMIN_VIEWS = {
    "wagtailadmin_choose_page": ScopedPageBrowseView,
    "wagtailadmin_choose_page_child": ScopedPageBrowseView,
    "wagtailadmin_choose_page_chosen_multiple": ScopedPageChosenMultipleView,
    "wagtailimages_chooser:chosen": KnownIdsImageChosenView,
    "wagtailimages_chooser:chosen_multiple": KnownIdsImageChosenMultipleView,
    "wagtaildocs_chooser:chosen": KnownIdsDocumentChosenView,
    "wagtaildocs_chooser:chosen_multiple": KnownIdsDocumentChosenMultipleView,
    "wagtailadmin_editing_sessions:ping": ping_known_object,
}


def admin_urlpatterns(patterns) -> list:
    """Wagtail's admin URL patterns with the views of SCOPED_ADMIN_VIEWS replaced.

    Those views take no hook for the page they are opened at or the ids they are
    given, so the patterns keep their address and name and get the scoped view,
    behind Wagtail's own admin-access check and, as every admin view, uncached and
    with the admin's 404 page (not the public site's); a viewset's view keeps the
    viewset's arguments. A name Wagtail no longer has
    fails loudly here rather than leaving its view unscoped."""
    replaced: set[str] = set()
    scoped = _scoped_patterns(patterns, "", replaced)
    if missing := set(SCOPED_ADMIN_VIEWS) - replaced:
        raise LookupError(f"Wagtail's admin has no URL named {sorted(missing)}")
    return scoped


def _scoped_patterns(patterns, namespace: str, replaced: set[str]) -> list:
    # Here, not at the top: importing wagtail.admin.urls gathers the
    # register_admin_urls hooks, and wagtail_hooks modules import this one before
    # every hook is registered (a viewset's URLs went missing).
    from wagtail.admin.urls import display_custom_404

    scoped = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            pattern = _scoped_include(pattern, namespace, replaced)
        elif (name := f"{namespace}{pattern.name}") in SCOPED_ADMIN_VIEWS:
            replaced.add(name)
            pattern = URLPattern(
                pattern.pattern,
                never_cache(
                    display_custom_404(
                        require_admin_access(
                            _as_view(SCOPED_ADMIN_VIEWS[name], pattern)
                        )
                    )
                ),
                pattern.default_args,
                pattern.name,
            )
        scoped.append(pattern)
    return scoped


def _scoped_include(resolver: URLResolver, namespace: str, replaced: set[str]):
    if resolver.namespace:
        namespace = f"{namespace}{resolver.namespace}:"
    before = len(replaced)
    inner = _scoped_patterns(resolver.url_patterns, namespace, replaced)
    if len(replaced) == before:
        return resolver
    return URLResolver(
        resolver.pattern,
        inner,
        resolver.default_kwargs,
        resolver.app_name,
        resolver.namespace,
    )


def _as_view(view, pattern: URLPattern):
    if not isinstance(view, type):
        return view
    return view.as_view(**getattr(pattern.callback, "view_initkwargs", {}))
