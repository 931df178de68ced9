"""A sending consumer in its own OS process, for the multi-consumer tests.

    python -m tests.mailing.consumer_runner send RUN_ID SMTP_PORT
    python -m tests.mailing.consumer_runner sweep RUN_ID SMTP_PORT

DATABASE_URL must name the test database. VESTNIK_TEST_RATE (messages per second,
shared by every consumer through Redis when REDIS_URL is set) throttles the send, so
a test can act part-way through a run. `sweep` plays the periodic sweeper as if
the unknown-timeout had passed; the run it re-enqueues is sent in this process
(Huey runs inline under the test settings), like a restarted consumer.
"""

import os
import sys
from datetime import timedelta

CONCURRENCY = 2
BATCH_SIZE = 25


def configure(port: int) -> None:
    from django.conf import settings

    settings.EMAIL_BACKEND = "mailing.sending.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.SENDING_CONCURRENCY = CONCURRENCY
    settings.SENDING_BATCH_SIZE = BATCH_SIZE
    rate = int(os.environ.get("VESTNIK_TEST_RATE") or 0)
    settings.SENDING_RATE_PER_OWNER = settings.SENDING_RATE_GLOBAL = rate


def main(mode: str, run_id: str, port: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.test")
    import django

    django.setup()
    configure(int(port))
    from django.conf import settings
    from django.utils import timezone

    from mailing import services
    from mailing.sending import pipeline

    if mode == "send":
        pipeline.send_run(int(run_id))
    elif mode == "sweep":
        later = timedelta(seconds=settings.SENDING_UNKNOWN_AFTER + 1)
        print(services.sweep_stalled_runs(timezone.now() + later))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
