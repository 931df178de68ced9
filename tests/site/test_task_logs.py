"""The task consumer logs each task ("Executing ...", "... executed in") only when
TASK_LOG_LEVEL asks: run_huey set its own INFO level and handler on the "huey"
logger unless LOGGING gave it one, so production logs (and `make run`'s terminal)
got two lines per task, each printed twice."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

# A real run_huey whose queue holds one task; the task stops the consumer the way
# Ctrl-C does. An in-memory Huey: the test needs no Redis and touches no queue.
CONSUMER = """
import os, signal, time, django
# An ignored SIGINT is inherited (in the whole run something left the test worker
# ignoring it): Ctrl-C, as the task below sends it, must stop the consumer.
signal.signal(signal.SIGINT, signal.default_int_handler)
django.setup()
from huey import MemoryHuey
from huey.contrib import djhuey
from django.core.management import call_command

djhuey.HUEY = huey = MemoryHuey("task-log-test")

@huey.task()
def stop_the_consumer():
    # The workers start before the consumer's handlers are set.
    while signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGINT)

stop_the_consumer()
call_command("run_huey", "--no-periodic", "--workers", "1")
"""

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "site_config.settings.production",
    "SECRET_KEY": "task-log-test-" + "x" * 40,
    "ALLOWED_HOSTS": "localhost",
    "BASE_URL": "https://localhost",
    "EMAIL_URL": "consolemail://",
}
DEVELOPMENT = {"DJANGO_SETTINGS_MODULE": "site_config.settings.dev"}


def consumer_log(settings_env: dict, **env) -> str:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TASK_LOG_LEVEL", "LOG_LEVEL", "DJANGO_SETTINGS_MODULE")
    }
    environment.update(settings_env, **env)
    result = subprocess.run(
        [sys.executable, "-c", CONSUMER],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize("settings_env", [PRODUCTION, DEVELOPMENT])
def test_each_task_is_logged_only_when_asked(settings_env):
    quiet = consumer_log(settings_env)
    assert "Executing" not in quiet
    assert "executed in" not in quiet

    loud = consumer_log(settings_env, TASK_LOG_LEVEL="INFO")
    assert loud.count("Executing") == 1  # once, not once per handler
    assert loud.count("executed in") == 1
