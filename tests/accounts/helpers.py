import re

from django.contrib.auth import SESSION_KEY

from tests.factories import PASSWORD

SIGNUP_PASSWORD = "plum-tree-walking-42"  # noqa: S105 - test password


def sign_up(client, email: str, language_prefix: str = ""):
    return client.post(f"{language_prefix}/accounts/signup/", {"email": email})


def log_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post(
        "/accounts/login/", {"username": email, "password": password}, **extra
    )


def is_logged_in(client) -> bool:
    return SESSION_KEY in client.session


def page_shape(response) -> str:
    """The page with what legitimately differs per request (CSRF, echoed email) cut."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'(name="(?:username|email)"[^>]*?) value="[^"]*"', r"\1", html)


def finish_sign_up(client, link: str, password: str = SIGNUP_PASSWORD):
    """Follow the emailed link and choose the password there."""
    page = client.get(link)
    if page.status_code != 200:
        return page
    return client.post(link, {"new_password1": password, "new_password2": password})
