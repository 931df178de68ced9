from django.core.management.base import BaseCommand

from mailing.address_counts import rebuild_addresses
from mailing.mailing_counts import rebuild_mailing_counts
from mailing.owner_client_counts import rebuild_owner_counts


class Command(BaseCommand):
    help = (
        "Recount the service's unique client addresses and each owner's "
        "clients from the clients, and the mailings by owner and status."
    )

    def handle(self, *args, **options):
        wrong = rebuild_addresses()
        self.stdout.write(
            "The stored address count was wrong; corrected."
            if wrong
            else "The stored address count was right."
        )
        wrong = rebuild_owner_counts()
        self.stdout.write(
            "The stored owners' client counts were wrong; corrected."
            if wrong
            else "The stored owners' client counts were right."
        )
        wrong = rebuild_mailing_counts()
        self.stdout.write(
            "The stored mailing counts were wrong; corrected."
            if wrong
            else "The stored mailing counts were right."
        )
