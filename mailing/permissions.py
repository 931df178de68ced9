"""The one ownership rule of the admin, as a Wagtail permission policy.

Wagtail 8 resolves a model's policy through `wagtail.permissions.policy_registry`;
every admin view, chooser and bulk action of the mailing models asks it. Model
permissions say what a role may do at all; `for_user` / `owner_id_of` say on which
rows. Blocked or inactive users may do nothing.
"""

from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from .models import (
    Attempt,
    Client,
    ClientField,
    EmailLayout,
    Mailing,
    MailingList,
    Message,
    Segment,
    SenderIdentity,
    Subscription,
    Suppression,
    SuppressionRemoval,
    owner_id_of,
    sees_every_owner,
)

# What a manager may do on someone else's object: look, and the actions of their role.
READ_ACTIONS = frozenset({"view"})
MANAGER_ACTIONS = frozenset({"disable"})


def is_usable(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and not user.is_blocked
    )


class OwnerPermissionPolicy(ModelPermissionPolicy):
    def user_has_permission(self, user, action):
        return is_usable(user) and super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if user.is_superuser or owner_id_of(instance) == user.pk:
            return True
        # Someone else's object: managers may look and use their role's actions.
        return sees_every_owner(user) and action in READ_ACTIONS | MANAGER_ACTIONS

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return self.model._default_manager.none()
        objects = self.model._default_manager.for_user(user)
        if user.is_superuser or not set(actions) - READ_ACTIONS - MANAGER_ACTIONS:
            return objects
        # Changing actions: only one's own rows, even for managers.
        return objects.filter(**{objects.owner_lookup: user})


class SharedLayoutPermissionPolicy(OwnerPermissionPolicy):
    """Shared layouts (no owner) are there for everyone to view and use; only
    superusers change them."""

    def user_has_permission_for_instance(self, user, action, instance):
        if instance.owner_id is None and action == "view":
            return self.user_has_permission(user, action)
        return super().user_has_permission_for_instance(user, action, instance)


class ReadOnlyOwnerPermissionPolicy(OwnerPermissionPolicy):
    """Attempts are a log: nobody adds, edits or deletes them, superusers included."""

    def user_has_permission(self, user, action):
        return action == "view" and super().user_has_permission(user, action)


class SuppressionPermissionPolicy(OwnerPermissionPolicy):
    """Suppressed addresses are added and removed, never edited; removal has its
    own page with a reason (mailing.admin_suppression), so Wagtail's delete is
    nobody's."""

    def user_has_permission(self, user, action):
        return action in ("add", "view") and super().user_has_permission(user, action)


def may_remove_suppression(user, entry: Suppression) -> bool:
    """Lifting an entry is its owner's (or a superuser's); a manager only sees it."""
    return policy_for(Suppression).user_has_permission_for_instance(
        user, "view", entry
    ) and (user.is_superuser or entry.owner_id == user.pk)


def register_policies() -> None:
    for model in (
        Client,
        ClientField,
        MailingList,
        Message,
        Mailing,
        Segment,
        SenderIdentity,
        Subscription,
    ):
        register_permission_policy(model, OwnerPermissionPolicy(model))
    register_permission_policy(EmailLayout, SharedLayoutPermissionPolicy(EmailLayout))
    register_permission_policy(Attempt, ReadOnlyOwnerPermissionPolicy(Attempt))
    register_permission_policy(Suppression, SuppressionPermissionPolicy(Suppression))
    register_permission_policy(
        SuppressionRemoval, ReadOnlyOwnerPermissionPolicy(SuppressionRemoval)
    )


def policy_for(model) -> OwnerPermissionPolicy:
    from wagtail.permissions import policy_registry

    return policy_registry.get_by_type(model)
