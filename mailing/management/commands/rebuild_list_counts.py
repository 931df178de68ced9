from django.core.management.base import BaseCommand

from mailing.list_counts import rebuild_counts


class Command(BaseCommand):
    help = "Recount every list's members by status from the subscriptions."

    def handle(self, *args, **options):
        changed = rebuild_counts()
        self.stdout.write(f"{changed} list member counts corrected.")
