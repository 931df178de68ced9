from django.core.management.base import BaseCommand

from mailing.address_counts import rebuild_addresses


class Command(BaseCommand):
    help = "Recount the service's unique client addresses from the clients."

    def handle(self, *args, **options):
        wrong = rebuild_addresses()
        self.stdout.write(
            "The stored address count was wrong; corrected."
            if wrong
            else "The stored address count was right."
        )
