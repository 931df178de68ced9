"""Per-user API tokens: made and revoked by their owner, sent as `Bearer <token>`.

A token is `<prefix>.<secret>`; the prefix finds the row, the SHA-256 of the whole
token is compared in constant time. Only the digest is stored, so a leaked
database gives no usable token.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.models import ApiToken

from ..permissions import is_usable

# last_used_at is written at most this often per token: not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token of `user`; the raw token is returned once and never stored."""
    prefix = secrets.token_hex(6)
    raw = f"{prefix}.{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name, scope=scope, prefix=prefix, digest=digest_of(raw)
    )
    return token, raw


def revoke_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def find_token(raw: str) -> ApiToken | None:
    """The live token `raw` names, or None."""
    prefix, dot, _secret = raw.partition(".")
    if not dot or not prefix:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.digest, digest_of(raw)):
        return None
    return token


def touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`; no header: the next class (session) tries."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        token = find_token(header[1].decode("latin-1"))
        # A blocked owner's tokens stop working at once, like their sessions.
        if token is None or not is_usable(token.user):
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API token."))
        touch(token)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
