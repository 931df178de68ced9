"""What `make run` prints last, after the start-up noise: where to go and how in."""

import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts import demo

CONSOLE = "django.core.mail.backends.console.EmailBackend"
FILES = "django.core.mail.backends.filebased.EmailBackend"


def where_emails_go() -> str:
    if settings.EMAIL_BACKEND == CONSOLE:
        return "printed in this terminal (EMAIL_URL=consolemail://)"
    if settings.EMAIL_BACKEND == FILES:
        return f"written to {settings.EMAIL_FILE_PATH}"
    return f"sent through {settings.EMAIL_BACKEND}"


def wait_for_server(seconds: float) -> None:
    """Until the development server answers at BASE_URL, or `seconds` pass: on a
    busy machine its start-up lines came after a banner printed on a timer."""
    address = urlsplit(settings.BASE_URL)
    port = address.port or (443 if address.scheme == "https" else 80)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address.hostname, port), 1):
                return
        except OSError:
            time.sleep(0.5)


class Command(BaseCommand):
    help = "Print the site's address, where its emails go and the demo logins."
    requires_system_checks = []  # printed last: no check output after it

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            help="seconds to wait for the server at BASE_URL before printing",
        )

    def handle(self, *args, wait=0, **options):
        wait_for_server(wait)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Vestnik is ready: {settings.BASE_URL}/"))
        self.stdout.write(f"  Admin: {settings.BASE_URL}/admin/")
        self.stdout.write(f"  Emails are {where_emails_go()}.")
        demo.print_logins(self.stdout)
