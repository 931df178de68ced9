from django.core.management.base import BaseCommand

from mailing import event_queue


class Command(BaseCommand):
    help = (
        "Webhook events waiting in the queue, and those that failed "
        f"{event_queue.MAX_DELIVERIES} times (dead letters); --requeue puts the "
        "dead letters back once their cause is fixed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requeue", action="store_true")

    def handle(self, *args, requeue=False, **options):
        if requeue:
            moved = event_queue.requeue_dead_letters()
            self.stdout.write(f"{moved} dead letters put back in the queue.")
        self.stdout.write(f"{event_queue.pending_count()} entries waiting.")
        dead = event_queue.dead_letter_count()
        style = self.style.ERROR if dead else self.style.SUCCESS
        self.stdout.write(style(f"{dead} dead letters."))
