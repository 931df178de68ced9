"""Each WSGI worker imports the URLconf as it starts (site_config/wsgi.py), not in
its first request: the webhook views' imports were about a second of a worker's CPU
inside the first requests it answered (issue 17)."""

import json
import os
import subprocess  # nosec B404 - runs this interpreter on a fixed probe
import sys

from django.conf import settings

PROBE = """
import json, sys
import site_config.wsgi
from django.conf import settings
print(json.dumps({
    "urlconf": settings.ROOT_URLCONF in sys.modules,
    "webhook_views": "anymail.webhooks.postmark" in sys.modules,
}))
"""


def test_a_worker_has_its_urls_and_webhook_views_before_its_first_request():
    result = subprocess.run(  # nosec B603 - fixed argv
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="site_config.settings.test"),
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"urlconf": True, "webhook_views": True}
