"""Production refuses to start without its secrets, and passes `check --deploy`."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = [pytest.mark.smoke, pytest.mark.slow]

GOOD_ENV = {
    "SECRET_KEY": "k7#Qz!v2Lp9@xW4rT8&nB1^mY6*cF3%hJ0$dG5(sA-eU+oI=production-test-key",
    "ALLOWED_HOSTS": "vestnik.example.com",
    "BASE_URL": "https://vestnik.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in GOOD_ENV
        and key not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "site_config.settings.production",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", sorted(GOOD_ENV))
def test_production_refuses_to_start_without(missing):
    env = {key: value for key, value in GOOD_ENV.items() if key != missing}

    result = manage("check", **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_check_deploy_passes_with_the_secrets_set():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **GOOD_ENV)

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "WARNINGS:" not in output and "ERRORS:" not in output
    # The start-up list of webhook routes (an INFO): with no ESP and no secret, none.
    assert "(mailing.I101) No ESP webhook route is live" in output
