from django.core.management.base import BaseCommand

from mailing.counters import rebuild_counters


class Command(BaseCommand):
    help = "Rebuild the per run and day event counters from the events."

    def add_arguments(self, parser):
        parser.add_argument("--run", type=int, action="append", dest="runs")

    def handle(self, *args, runs=None, **options):
        written = rebuild_counters(runs)
        self.stdout.write(f"{written} run-day counter rows rebuilt.")
