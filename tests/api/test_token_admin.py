"""API tokens in the admin: the owner makes one (shown once, only its hash kept),
sees and revokes their own; nobody else's. Screenshots in ru and en of the token
page and the API reference (.test-artifacts/api/)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.models import ApiToken
from tests.factories import make_user
from tests.mailing.test_e2e_workspace import sign_in

from .conftest import bearer

SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "api"
INDEX = "mailing_api_tokens:index"


def signed_in(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.mark.django_db
def test_a_token_is_shown_once_and_only_its_hash_is_kept(owner):
    http = signed_in(owner)
    made = http.post(reverse(INDEX), {"name": "CRM", "scope": "read_write"})
    assert made.status_code == 200
    raw = made.context["raw_token"]
    assert raw in made.content.decode()
    token = ApiToken.objects.get(user=owner)
    assert raw not in {token.prefix, token.digest} and raw.startswith(token.prefix)
    assert bearer(raw).get("/api/v1/clients/").status_code == 200
    again = http.get(reverse(INDEX))
    assert raw not in again.content.decode() and "CRM" in again.content.decode()
    assert "no-store" in again["Cache-Control"] or "max-age=0" in again["Cache-Control"]


@pytest.mark.django_db
def test_only_the_owner_revokes_their_token(owner):
    from mailing.api.tokens import issue_token

    token, raw = issue_token(owner, "CRM", ApiToken.Scope.READ)
    url = reverse("mailing_api_tokens:revoke", args=[token.pk])
    for role in ("mailing_user", "manager", "superuser"):
        other = signed_in(make_user(role))
        assert other.post(url).status_code == 404, role
    editor = signed_in(make_user("editor"))
    assert editor.get(reverse(INDEX)).status_code in (302, 403)
    assert bearer(raw).get("/api/v1/clients/").status_code == 200
    answer = signed_in(owner).post(url)
    assert answer.status_code == 302
    assert bearer(raw).get("/api/v1/clients/").status_code == 401


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_token_page_and_the_reference_in_chromium(live_server, browser, language):
    owner = make_user(email=f"api-{language}@example.com", language=language)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, owner.email)
    page.goto(live_server.url + reverse(INDEX))
    page.fill("input[name=name]", "CRM")
    page.select_option("select[name=scope]", "read_write")
    page.click("[data-testid=create-token]")
    shown = page.locator("[data-testid=new-token] code").inner_text()
    page.screenshot(path=SCREENSHOTS / f"{language}-tokens.png", full_page=True)
    assert shown.startswith(ApiToken.objects.get(user=owner).prefix)

    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + reverse("api:docs"))
    page.wait_for_selector(".opblock-tag", timeout=20_000)
    page.screenshot(path=SCREENSHOTS / f"{language}-reference.png", full_page=False)
    assert page.locator(".opblock-tag").count() >= 6
    assert not [e for e in errors if "Content Security Policy" in e and "script" in e]
    page.close()
