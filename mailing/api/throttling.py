"""Rate limits per token (per user for the browsable API's session), counted in the
default cache: Redis in production. DRF answers 429 with Retry-After."""

from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            # The prefix, not the id: SQLite reuses the id of a deleted last row,
            # and a new token must not inherit the old one's window.
            ident = f"token-{request.auth.prefix}"
        elif request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
