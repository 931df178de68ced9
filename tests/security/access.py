"""Turning a response into one word of the access policy."""

from urllib.parse import urlsplit

from django.contrib.messages import ERROR, get_messages
from django.http import HttpResponse

OK = "ok"  # 2xx: the page is shown
LOGIN = "login"  # redirect to a sign-in page
DENY = "deny"  # 403, or Wagtail's refusal: a redirect to the admin home with a message
NOT_FOUND = "404"
NO_GET = "405"  # the address exists but takes no GET (logout, webhooks, actions)
BAD = "400"
REDIRECT = "redirect"  # any other redirect (language, slash, a next step)

LOGIN_PATHS = (
    "/admin/login/",
    "/accounts/login/",
    "/en/accounts/login/",
    "/_util/login/",
)
ADMIN_HOME = "/admin/"


def outcome(response: HttpResponse) -> str:
    status = response.status_code
    if 200 <= status < 300:
        return OK
    if status in (301, 302, 303, 307, 308):
        target = urlsplit(response["Location"]).path
        if target.startswith(LOGIN_PATHS):
            return LOGIN
        if target == ADMIN_HOME and _refused(response):
            return DENY
        return REDIRECT
    return {403: DENY, 404: NOT_FOUND, 405: NO_GET, 400: BAD}.get(status, str(status))


def _refused(response: HttpResponse) -> bool:
    """Wagtail refuses with a redirect home plus an error message; a plain redirect
    home (a signed-in user opening the login page) is not a refusal."""
    request = getattr(response, "wsgi_request", None)
    if request is None:
        return True
    storage = get_messages(request)
    # Only what this request added: an unread message of an earlier request is
    # still in the cookie.
    return any(m.level >= ERROR for m in getattr(storage, "_queued_messages", storage))
