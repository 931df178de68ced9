"""SpamAssassin's offline score of each shared layout's sample email.

    python benchmarks/spam.py

Builds the sample newsletter (tests.factories.make_letter) in each shared layout,
from a confirmed sender identity, exactly as the sending path renders it (text part
made from the HTML, List-Unsubscribe headers), and runs SpamAssassin on it offline
(no network tests, no Bayes). Goal: under 1.0 with no rule about a missing text
part, bad MIME or HTML only. Exits non-zero when a goal is missed.

Uses a `bench_`-prefixed copy of the database (kept between runs), as sending.py.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.test")
os.environ.setdefault("LOG_LEVEL", "WARNING")

GOAL = 1.0
# Rules that mean the structure is wrong, whatever the score.
STRUCTURE_RULES = ("MIME", "HTML_ONLY", "MISSING", "MPART_ALT_DIFF", "NO_TEXT")


def setup_django() -> None:
    import django
    from django.db import connection

    django.setup()
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        database["TEST"]["NAME"] = str(ROOT / ".bench.sqlite3")
    else:
        database["TEST"]["NAME"] = f"bench_{database['NAME']}"
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)


SENDERS = {
    "ru": ("Книжная лавка «Переплёт»", "ООО «Переплёт», ул. Тверская, 12, Москва"),
    "en": ("Corner Bookshop", "Corner Bookshop Ltd, 12 High Street, Bath BA1 1AA"),
}


def sample_email(layout) -> bytes:
    import uuid

    from mailing.previews import sample_email as build
    from mailing.rendering import prepare_message
    from tests.factories import make_letter, make_sender, make_user

    owner = make_user(
        role="none",
        email=f"bench-{uuid.uuid4().hex}@example.com",
        language=layout.language,
    )
    name, postal = SENDERS[layout.language]
    sender = make_sender(
        owner,
        from_name=name,
        from_email="news@vestnik.example.com",
        postal_address=postal,
    )
    message = make_letter(owner, layout.language, layout=layout, sender=sender)
    return build(prepare_message(message), "Анна Петрова", "anna@example.org")


def main() -> int:
    setup_django()
    from django.db import transaction

    from mailing import spam
    from mailing.models import EmailLayout

    missed = 0
    print("SpamAssassin, offline (-L), no Bayes: each shared layout's sample email")
    for layout in EmailLayout.objects.shared().order_by("language"):
        with transaction.atomic():
            email = sample_email(layout)
            transaction.set_rollback(True)
        report = spam.check(email)
        if not report.available:
            print(f"  {layout.name}: SpamAssassin unavailable ({report.problem})")
            return 2
        rules = ", ".join(f"{r.name} {r.score:+.1f}" for r in report.fired) or "none"
        structural = [
            r.name for r in report.rules if any(s in r.name for s in STRUCTURE_RULES)
        ]
        ok = report.score < GOAL and not structural
        missed += not ok
        print(
            f"  {layout.name} [{layout.language}]: score {report.score:.1f} "
            f"(goal < {GOAL}) {'ok' if ok else 'MISSED'}; rules that scored: {rules}"
        )
        if structural:
            print(f"    structure rules fired: {', '.join(structural)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
