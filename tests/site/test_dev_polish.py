"""Issue 16, development polish: links follow PORT, task logs are quiet, and the
last thing `make run` prints is where to go, where emails go and how to sign in."""

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command

PROBE = """
import json, logging, django
django.setup()
from django.conf import settings
print(json.dumps({
    "base_url": settings.BASE_URL,
    "admin_base_url": settings.WAGTAILADMIN_BASE_URL,
    "huey": logging.getLogger("huey").getEffectiveLevel(),
    "tasks": logging.getLogger("django_tasks").getEffectiveLevel(),
}))
"""


def dev_settings(**env) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("BASE_URL", "PORT", "TASK_LOG_LEVEL")
    }
    environment.update(DJANGO_SETTINGS_MODULE="site_config.settings.dev", **env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_development_links_follow_the_port():
    assert dev_settings(PORT="8080")["base_url"] == "http://127.0.0.1:8080"
    assert dev_settings(PORT="8080")["admin_base_url"] == "http://127.0.0.1:8080"
    assert dev_settings()["base_url"] == "http://127.0.0.1:8000"
    # An explicit BASE_URL still wins.
    assert dev_settings(PORT="8080", BASE_URL="http://dev.example")["base_url"] == (
        "http://dev.example"
    )


def test_task_logs_are_quiet_in_development_unless_asked():
    quiet = dev_settings()
    loud = dev_settings(TASK_LOG_LEVEL="INFO")
    assert quiet["huey"] == quiet["tasks"] == 30  # WARNING
    assert loud["huey"] == loud["tasks"] == 20  # INFO


def test_the_banner_says_where_to_go_where_emails_go_and_the_logins():
    environment = {
        key: value for key, value in os.environ.items() if key not in ("BASE_URL",)
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="site_config.settings.dev",
        PORT="8081",
        EMAIL_URL="consolemail://",
    )
    environment.pop("EMAIL_BACKEND", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "dev_banner"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "http://127.0.0.1:8081/" in result.stdout
    assert "printed in this terminal" in result.stdout
    assert "manager@vestnik.example" in result.stdout
    assert "vestnik-demo" in result.stdout
    assert "System check" not in result.stdout + result.stderr


def test_the_banner_waits_for_the_server_so_it_comes_after_its_start_up_lines():
    """`make run` printed the banner on a 5-second timer; on a busy machine the
    development server's own lines came after it. It now waits for the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if k != "BASE_URL"}
    environment.update(
        DJANGO_SETTINGS_MODULE="site_config.settings.dev", PORT=str(port)
    )
    banner = subprocess.Popen(
        [sys.executable, "manage.py", "dev_banner", "--wait", "60"],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(8)  # longer than the old timer, and than the command's start
        assert banner.poll() is None, banner.communicate()
        with socket.create_server(("127.0.0.1", port)):
            out, err = banner.communicate(timeout=30)
    finally:
        banner.kill()
    assert banner.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out


@pytest.mark.django_db
def test_seed_demo_does_not_print_a_line_per_page_wagtail_made(caplog):
    """A first `make run` printed some thirty "Page created/edited/published"
    lines of Wagtail's between migrate's and the banner."""
    caplog.set_level(logging.INFO)

    call_command("seed_demo", stdout=io.StringIO())

    assert not [r for r in caplog.records if r.name.startswith("wagtail")]
    assert logging.getLogger("wagtail").level != logging.WARNING  # as it was
