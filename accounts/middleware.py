import functools

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.urls import reverse
from django.utils import translation


class BlockedUserLogoutMiddleware:
    """Ends the session of a blocked user on their very next request.

    The auth backend already refuses a blocked user (`get_user` answers None), so
    the request is anonymous, but the session row still names the user: unblocked
    later, the same cookie would sign in again, whoever holds it. A session that
    names a user the backend refuses is flushed. This costs no query: the user row
    is loaded for every request with a signed-in session anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if (
            session is not None
            and SESSION_KEY in session
            and not request.user.is_authenticated
        ):
            logout(request)
        return self.get_response(request)


class AdminLanguageMiddleware:
    """The admin speaks its user's language for the whole request.

    Wagtail switches to the person's language only inside the view: when a view
    refuses (PermissionDenied), Wagtail writes "you do not have permission" after
    leaving that switch, in the browser's language, so an English manager read
    the refusal in Russian on the English admin home it redirected to.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(admin_prefix()) and request.user.is_authenticated:
            language = request.user.language or settings.LANGUAGE_CODE
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


@functools.cache
def admin_prefix() -> str:
    return reverse("wagtailadmin_home")
