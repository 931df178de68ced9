"""Security headers, the public CSP, and `check --deploy` on production settings."""

import os
import secrets
import subprocess  # nosec B404 - runs this project's manage.py, no shell
import sys
from html.parser import HTMLParser

import pytest
from django.conf import settings

from tests.factories import make_user
from tests.security.access import outcome
from tests.security.urlwalk import walk

pytestmark = [pytest.mark.django_db]

PROJECT = settings.BASE_DIR


@pytest.mark.smoke
def test_public_pages_send_a_strict_content_security_policy(client):
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'self'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


@pytest.mark.smoke
def test_the_wagtail_admin_keeps_its_own_policy(client, django_user_model):
    # Wagtail's admin runs inline scripts: the strict policy would break it.
    response = client.get("/admin/")

    assert "Content-Security-Policy" not in response


@pytest.mark.smoke
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/", "/healthz/"])
def test_every_response_forbids_sniffing_and_leaks_no_referrer(client, path):
    response = client.get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


class _InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, handlers, styles."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            # JSON data blocks (Wagtail's userbar config) never run: CSP ignores them.
            kind = (attrs.get("type") or "text/javascript").lower()
            self._in_script = kind in (
                "text/javascript",
                "application/javascript",
                "module",
            )
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f"<{tag} style=...>")
            link = (value or "").strip().lower()
            if name in ("href", "src", "action") and link.startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def test_public_templates_carry_no_inline_code_the_policy_would_block(world):
    """Every public page (walked, as anonymous and signed in) runs under the CSP."""
    exempt = tuple(settings.CONTENT_SECURITY_POLICY_EXEMPT_PATHS)
    pages, problems = 0, []
    for target in walk(world.filler()).targets:
        if target.path.startswith(exempt):
            continue
        for role in ("anonymous", "user_a"):
            http = world.client_for(role, raise_request_exception=False)
            response = http.get(target.path)
            html = "html" in response.get("Content-Type", "")
            if outcome(response) != "ok" or not html:
                continue
            pages += 1
            parser = _InlineCode()
            parser.feed(response.content.decode())
            problems += [f"{target.path} as {role}: {item}" for item in parser.found]
    print(f"public HTML pages checked for inline code: {pages}")
    assert pages > 0
    assert not problems, "\n".join(problems)


def _production_env(**extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' switch, set when their
        # module is collected: it is no part of a deployment.
        if key
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        )
    }
    env.update(
        DJANGO_SETTINGS_MODULE="site_config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="vestnik.example",
        BASE_URL="https://vestnik.example",
        ANYMAIL_WEBHOOK_SECRET="esp:" + secrets.token_urlsafe(20),
        **extra,
    )
    return env


def _manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(  # nosec B603 - fixed argv, this interpreter
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_production_settings_pass_check_deploy_without_a_warning():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env=_production_env()
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_production_sets_hsts_and_secure_cookies():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SECURE_SSL_REDIRECT, s.DEBUG)"
    )
    result = _manage("shell", "-c", code, env=_production_env())

    assert result.returncode == 0, result.stderr
    # The last line: `shell` may first say how many objects it imported.
    last_line = result.stdout.strip().splitlines()[-1]
    hsts, subdomains, session, csrf, httponly, redirect, debug = last_line.split()
    assert int(hsts) >= 31_536_000
    assert (subdomains, session, csrf, httponly, redirect, debug) == (
        "True", "True", "True", "True", "True", "False"
    )  # fmt: skip


def test_admin_pages_send_nothing_of_the_user_to_gravatar(client):
    """Wagtail fetches avatars from gravatar.com by default: a hash of each
    admin user's address, sent to a third party on every page."""
    client.force_login(make_user("editor", email="avatar@example.com"))

    page = client.get("/admin/").content.decode()

    assert "gravatar" not in page.lower()
