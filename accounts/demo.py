"""Demo users of each role for `manage.py seed_demo`."""

from django.contrib.auth.models import Group
from django.utils import timezone

from .models import EDITORS_GROUP, MAILING_USERS_GROUP, MANAGERS_GROUP, User

DEMO_PASSWORD = "vestnik-demo"  # nosec B105 - printed for local demo logins only
EDITOR_EMAIL = "editor@vestnik.example"
DEMO_USERS = [
    ("admin@vestnik.example", None, "Администратор"),
    ("user@vestnik.example", MAILING_USERS_GROUP, "Анна Пользователь"),
    ("user2@vestnik.example", MAILING_USERS_GROUP, "Борис Пользователь"),
    ("manager@vestnik.example", MANAGERS_GROUP, "Мария Менеджер"),
    (EDITOR_EMAIL, EDITORS_GROUP, "Егор Редактор"),
]


def _ensure_user(email: str, group: str | None, full_name: str) -> User:
    first_name, _, last_name = full_name.partition(" ")
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "email_verified_at": timezone.now(),
            "is_superuser": group is None,
            "is_staff": group is None,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def seed(stdout) -> None:
    for email, group, full_name in DEMO_USERS:
        _ensure_user(email, group, full_name)
    print_logins(stdout)


def print_logins(stdout) -> None:
    stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, group, _ in DEMO_USERS:
        stdout.write(f"  {email:28} {group or 'superuser'}")
