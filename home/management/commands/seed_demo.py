import logging

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Load demo content (site, pages, posts, users of each role). Safe to re-run."

    def handle(self, *args, **options):
        # Wagtail logs each page it creates, edits and publishes at INFO: a first
        # `make run` printed some thirty such lines. -v 2 shows them.
        wagtail = logging.getLogger("wagtail")
        level = wagtail.level
        if options["verbosity"] < 2:
            wagtail.setLevel(logging.WARNING)
        try:
            with transaction.atomic():
                for path in settings.DEMO_SEEDERS:
                    import_string(path)(self.stdout)
        finally:
            wagtail.setLevel(level)
        self.stdout.write(self.style.SUCCESS("Demo content is in place."))
