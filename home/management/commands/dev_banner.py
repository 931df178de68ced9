"""What `make run` prints last, after the start-up noise: where to go and how in."""

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


class Command(BaseCommand):
    help = "Print the site's address, where its emails go and the demo logins."
    requires_system_checks = []  # printed last: no check output after it

    def handle(self, *args, **options):
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Vestnik is ready: {settings.BASE_URL}/"))
        self.stdout.write(f"  Admin: {settings.BASE_URL}/admin/")
        self.stdout.write(f"  Emails are {where_emails_go()}.")
        demo.print_logins(self.stdout)
