from django.contrib.auth import logout


class BlockedUserLogoutMiddleware:
    """Ends the session of a blocked user on their very next request.

    The user row is loaded for every authenticated request anyway, so this costs no
    query, and it closes every open session at once without tracking sessions.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_blocked:
            logout(request)
        return self.get_response(request)
