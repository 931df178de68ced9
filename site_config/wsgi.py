"""WSGI entry point: `gunicorn site_config.wsgi`.

Each worker imports the URLconf here, as it starts, before it takes a request.
Django imports it lazily, on a worker's first request: Anymail's webhook views
(boto3 for Amazon SES, svix and pydantic for Resend) make that about a second of
CPU a worker, which gunicorn's workers spent inside the first requests they
answered. In benchmarks/webhooks.py a worker that the warm-up had missed did it
during the measurement, up to a millisecond a request of the one-event shape
(issue 17, py-spy); an ESP's first webhooks after a deploy waited for it too.
"""

import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.production")

application = get_wsgi_application()
import_module(settings.ROOT_URLCONF)
