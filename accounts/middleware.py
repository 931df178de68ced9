from django.contrib.auth import SESSION_KEY, logout


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
