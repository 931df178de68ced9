from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Load demo content (site, pages, posts, users of each role). Safe to re-run."

    def handle(self, *args, **options):
        with transaction.atomic():
            for path in settings.DEMO_SEEDERS:
                import_string(path)(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo content is in place."))
