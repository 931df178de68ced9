"""An object's address with an id that is no id (a word, a fraction, a negative,
a digit of another script, past a bigint) names nothing: a 404 in the API's
shape, or the refusal the role gets anyway, never a server error."""

import pytest
from django.test import Client

from mailing.api.urls import router

pytestmark = pytest.mark.django_db

JUNK = ["abc", "1.5", "-1", "0", "\u0661", "99999999999999999999"]


def object_routes() -> list[tuple[str, str]]:
    """(method, url with {id}) of every route of the router that names a row."""
    routes = []
    for prefix, viewset, _basename in router.registry:
        for route in router.get_routes(viewset):
            if "{lookup}" not in route.url:
                continue
            url = route.url.replace("{prefix}", prefix).replace("{trailing_slash}", "/")
            url = "/api/v1/" + url.removeprefix("^").removesuffix("$")
            for method, handler in route.mapping.items():
                if hasattr(viewset, handler):
                    routes.append((method, url.replace("{lookup}", "{id}")))
    return routes


ROUTES = object_routes()


@pytest.mark.parametrize("role", ["user_a", "manager"])
def test_an_id_that_is_no_id_is_never_a_server_error(world, role):
    api = world["apis"][role]
    api.raise_request_exception = False
    assert any("users/{id}/block/" in url for _method, url in ROUTES)
    for method, url in ROUTES:
        for junk in JUNK:
            answer = getattr(api, method)(url.format(id=junk), {}, format="json")
            where = (role, method, url, junk)
            assert answer.status_code in (403, 404, 405), (where, answer.content)
            assert {"code", "message"} <= set(answer.json()), where


@pytest.mark.parametrize(
    ("language", "words"), [("en", "Not found."), ("ru", "Страница не найдена.")]
)
@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing/", "/api/v1/clients/1.5/", "/api/v2/nothing/"]
)
def test_an_api_address_with_no_route_is_the_apis_404(client, path, language, words):
    """As the API's views answer a row that is not there (DRF's words)."""
    answer = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 404
    assert answer.json() == {"code": "not_found", "message": words}
    assert words in answer.content.decode()  # written as DRF writes it, not \u0421


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/users/abc/block/"])
def test_a_post_to_an_api_address_with_no_route_is_the_apis_404(path):
    """Not the CSRF refusal of the page that catches unknown addresses (HTML)."""
    browser = Client(enforce_csrf_checks=True)
    answer = browser.post(path, {}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 404
    assert answer.json() == {"code": "not_found", "message": "Not found."}
    page = browser.post("/no-such-page/", {})
    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")


def test_a_page_with_no_route_is_still_a_page(client):
    answer = client.get("/no-such-page/")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/html")


def test_a_server_error_in_the_api_is_told_in_its_shape(owner, token_for, monkeypatch):
    from mailing.api.views import ClientViewSet

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ClientViewSet, "list", broken)
    api = token_for(owner)
    api.raise_request_exception = False
    answer = api.get("/api/v1/clients/", HTTP_ACCEPT_LANGUAGE="ru")
    assert answer.status_code == 500
    assert answer.json() == {"code": "error", "message": "Ошибка сервера."}
