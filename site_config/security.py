"""Content-Security-Policy for the public site.

The public templates carry no inline script or style, so the policy allows only
this site's own files: injected markup (a stored XSS that slipped past escaping)
cannot run. Cached pages are served to many visitors, so a per-request nonce would
not fit them: there is none, and inline script stays forbidden.
The Wagtail admin ships inline scripts and styles of its own and keeps Wagtail's
defaults (it is exempt by path).
https://developer.mozilla.org/docs/Web/HTTP/Guides/CSP
"""

from django.conf import settings


def build_policy(directives: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.header = build_policy(settings.CONTENT_SECURITY_POLICY)
        self.exempt = tuple(settings.CONTENT_SECURITY_POLICY_EXEMPT_PATHS)

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(self.exempt):
            # A view that sets its own policy (a stricter one) keeps it.
            response.headers.setdefault("Content-Security-Policy", self.header)
        return response
