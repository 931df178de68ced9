from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mailing import services
from mailing.models import Mailing
from mailing.sending import pipeline


class Command(BaseCommand):
    help = "Send a mailing now (a manual run), in this process, and print the result."

    def add_arguments(self, parser):
        parser.add_argument("mailing_id", type=int)

    def handle(self, *args, mailing_id, **options):
        mailing = Mailing.objects.select_related("owner").filter(pk=mailing_id).first()
        if mailing is None:
            raise CommandError(_("No mailing with id %(id)s.") % {"id": mailing_id})
        try:
            run = services.send_now(mailing, requested_by=mailing.owner)
        except services.SendError as error:
            raise CommandError(str(error)) from error
        # The task may already have run (immediate mode); sending again is a no-op.
        pipeline.send_run(run.pk)
        run.refresh_from_db()
        self.stdout.write(
            _(
                "Run %(run)s: %(status)s, %(sent)s sent, %(failed)s failed, "
                "%(skipped)s skipped of %(total)s."
            )
            % {
                "run": run.pk,
                "status": run.get_status_display(),
                "sent": run.sent_count,
                "failed": run.failed_count,
                "skipped": run.skipped_count,
                "total": run.total,
            }
        )
