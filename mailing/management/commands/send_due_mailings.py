from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from mailing import services
from mailing.sending import pipeline


class Command(BaseCommand):
    help = "One scheduler pass by hand: open and send the runs of due mailings."

    def handle(self, *args, **options):
        runs = services.open_scheduled_runs(timezone.now())
        for run in runs:
            pipeline.send_run(run.pk)
        self.stdout.write(_("Opened %(count)s runs.") % {"count": len(runs)})
