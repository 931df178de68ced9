from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Django's model backend that also refuses blocked users.

    Refusing here, rather than only in the login form, closes every door at once:
    the public login, the Wagtail admin, and any session a blocked user still holds
    (`get_user` goes through `user_can_authenticate` too).
    """

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not user.is_blocked
