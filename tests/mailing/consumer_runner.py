"""A sending consumer in its own OS process, for the multi-consumer tests.

    python -m tests.mailing.consumer_runner send RUN_ID SMTP_PORT
    python -m tests.mailing.consumer_runner sweep RUN_ID SMTP_PORT

DATABASE_URL must name the test database. `sweep` plays the periodic sweeper as if
the unknown-timeout had passed; the run it re-enqueues is sent in this process
(Huey runs inline under the test settings), like a restarted consumer.
"""

import os
import sys
from datetime import timedelta


def configure(port: int) -> None:
    from django.conf import settings

    settings.EMAIL_BACKEND = "mailing.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.SENDING_CONCURRENCY = 2
    settings.SENDING_BATCH_SIZE = 25


def main(mode: str, run_id: str, port: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.test")
    import django

    django.setup()
    configure(int(port))
    from django.conf import settings
    from django.utils import timezone

    from mailing import services

    if mode == "send":
        services.send_run(int(run_id))
    elif mode == "sweep":
        later = timedelta(seconds=settings.SENDING_UNKNOWN_AFTER + 1)
        print(services.sweep_stalled_runs(timezone.now() + later))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
