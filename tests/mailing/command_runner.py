"""`manage.py send_mailing` in its own OS process, for the concurrency tests.

    python -m tests.mailing.command_runner SMTP_PORT START_AT MAILING_ID

DATABASE_URL must name the test database. The process sets Django up, points
email at the SMTP sink on loopback, waits until START_AT (a time.time() value) so
two processes call the command within a millisecond of each other, then runs it
as manage.py would: a refusal prints to stderr and exits 1.
"""

import os
import sys
import time


def main(port: str, start_at: str, *command: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import execute_from_command_line

    settings.EMAIL_BACKEND = "mailing.sending.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(port)
    time.sleep(max(float(start_at) - time.time(), 0))
    execute_from_command_line(["manage.py", "send_mailing", *command])


if __name__ == "__main__":
    main(*sys.argv[1:])
