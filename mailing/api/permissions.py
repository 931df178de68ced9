"""Who may do what through the API: the admin's permission policy (mailing.
permissions), asked with the action a request means. Querysets are the policy's
own rows, so a foreign id is 404; the policy decides what may be done to a row."""

from rest_framework import exceptions, permissions

from accounts.models import ApiToken

from ..models import Mailing
from ..moderation import may_block
from ..permissions import is_usable, policy_for

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def action_of(request, view) -> str:
    # An @action(policy_action=...) names its own (pause is "change" of a mailing).
    action = getattr(view, "policy_action", None) or METHOD_ACTIONS.get(request.method)
    if action is None:
        # TRACE and the like: no action of the policy, so nothing is allowed (a
        # KeyError here was a 500).
        raise exceptions.MethodNotAllowed(request.method)
    return action


def may_use_api(user) -> bool:
    """Mailing users, managers and superusers; not editors, not blocked users."""
    return is_usable(user) and (
        policy_for(Mailing).user_has_permission(user, "view") or may_block(user)
    )


class ApiAccess(permissions.BasePermission):
    """Mailing users, managers and superusers; editors and blocked users: none.
    A read-only token reads only."""

    def has_permission(self, request, view):
        if not may_use_api(request.user):
            return False
        token = request.auth
        if isinstance(token, ApiToken) and not token.may_write:
            return request.method in permissions.SAFE_METHODS
        return True


class OwnerPolicy(permissions.BasePermission):
    """The model's policy for the action; objects are checked through
    `view.policy_object(obj)` (a run answers for its mailing)."""

    def has_permission(self, request, view):
        return policy_for(view.policy_model).user_has_permission(
            request.user, action_of(request, view)
        )

    def has_object_permission(self, request, view, obj):
        return policy_for(view.policy_model).user_has_permission_for_instance(
            request.user, action_of(request, view), view.policy_object(obj)
        )


class MayBlockUsers(permissions.BasePermission):
    def has_permission(self, request, view):
        return may_block(request.user)
