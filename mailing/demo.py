"""Demo clients, messages and mailings for `manage.py seed_demo` (idempotent)."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User

from .audiences import subscribe
from .demo_history import seed_history
from .models import Client, Mailing, MailingList, Message
from .samples import sample_letter

DEMO = {
    "user@vestnik.example": ("Анна", ["ivan", "olga", "petr"]),
    "user2@vestnik.example": ("Борис", ["maria", "sergey"]),
}


def _seed_owner(owner: User, clients: list[str]) -> None:
    recipients = [
        Client.objects.get_or_create(
            owner=owner,
            email=f"{name}@example.org",
            defaults={"full_name": name.capitalize()},
        )[0]
        for name in clients
    ]
    subject, html_body = sample_letter("ru")
    # The layout adds the unsubscribe link and the rest of the footer.
    message, _ = Message.objects.get_or_create(
        owner=owner,
        subject=subject,
        defaults={"body": "", "html_body": html_body},
    )
    start = timezone.now() + timedelta(days=1)
    mailing, created = Mailing.objects.get_or_create(
        owner=owner,
        name="Еженедельный дайджест",
        defaults={
            "message": message,
            "first_send_at": start,
            "next_send_at": start,
            "periodicity": Mailing.Periodicity.WEEKLY,
        },
    )
    if created:
        readers, _ = MailingList.objects.get_or_create(
            owner=owner, name="Читатели дайджеста"
        )
        subscribe(Client.objects.filter(pk__in=[c.pk for c in recipients]), readers)
        mailing.lists.add(readers)
    seed_history(mailing)


def seed(stdout) -> None:
    for email, (_, clients) in DEMO.items():
        owner = User.objects.filter(email=email).first()
        if owner is None:
            stdout.write(f"  skipped mailing demo for {email}: run accounts.demo first")
            continue
        _seed_owner(owner, clients)
    stdout.write("Demo clients, messages and mailings are in place.")
