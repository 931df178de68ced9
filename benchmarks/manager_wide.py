"""The manager's pages on a wide service: many users, mailings and runs (issue 17).

    DATABASE_URL=postgres://.../postgres python benchmarks/manager_wide.py [--keep]

benchmarks/reports.py grows one owner's attempts; this grows what the manager's
pages read across owners: BENCH_USERS users (default 20,000, one in 50 blocked),
ten mailings each (one in ten disabled) over two years, ten runs per mailing with
a day of event counts each, in a database of its own, <BENCH_DB_PREFIX>_wide.
Prints, per panel of the manager's dashboard and for the reports index, its
queries and the database's time for them (EXPLAIN ANALYZE, the least of
BENCH_REPEAT): a loaded machine inflates it least.
"""

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.test")

USERS = int(os.environ.get("BENCH_USERS", "20000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "vestnik_bench_reports")

LOAD = """
SET session_replication_role = replica;
INSERT INTO accounts_user (password, is_superuser, first_name, last_name, is_staff,
  is_active, date_joined, email, is_blocked, phone, country, avatar, language,
  track_engagement)
SELECT '!', false, '', '', false, true, now() - (g % 730) * interval '1 day',
  'owner' || g || '@example.com', g % 50 = 0, '', '', '', 'en', true
FROM generate_series(1, USERS) g;
INSERT INTO mailing_message (subject, body, html_body, created_at, updated_at, owner_id)
SELECT 's', 'b', '', now(), now(), min(id) FROM accounts_user;
INSERT INTO mailing_mailing (name, first_send_at, periodicity, status, is_enabled,
  created_at, updated_at, owner_id, message_id, track_engagement, is_digest,
  public_archive, is_paused, all_clients)
SELECT 'M' || g, now(), 'once',
  CASE WHEN g % 100 = 0 THEN 'running' ELSE 'finished' END, g % 10 <> 0,
  now() - (g % 730) * interval '1 day' - (g % 997) * interval '1 minute',
  now() - (g % 700) * interval '1 day',
  (SELECT min(id) FROM accounts_user) + g % USERS,
  (SELECT min(id) FROM mailing_message), true, false, false, false, false
FROM generate_series(1, USERS * 10) g;
INSERT INTO mailing_mailingrun (kind, slot, status, total, sent_count, failed_count,
  skipped_count, created_at, mailing_id, content, cancelled_count, unknown_count)
SELECT 'scheduled', now() - g * interval '30 second', 'finished', 100, 95, 5, 0,
  now() - (g % 730) * interval '1 day' - (g % 1440) * interval '1 minute',
  (SELECT min(id) FROM mailing_mailing) + g % (USERS * 10), '{}', 0, 0
FROM generate_series(1, USERS * 100) g;
INSERT INTO mailing_rundaycounts (day, delivered, soft_bounces, hard_bounces,
  complaints, rejected, deferred, unsubscribes, opens, human_opens, clicks,
  human_clicks, run_id, send_bounces)
SELECT created_at::date, 90, 1, 1, 0, 0, 0, 1, 30, 20, 5, 4, id, 0
FROM mailing_mailingrun;
INSERT INTO wagtailcore_modellogentry (label, action, data, timestamp,
  content_changed, deleted, object_id, content_type_id)
SELECT 'u', 'mailing.block_user', '{}', now() - (g % 60) * interval '1 day', false,
  false, ((SELECT min(id) FROM accounts_user) + g * 50)::text,
  (SELECT id FROM django_content_type WHERE app_label = 'accounts' AND model = 'user')
FROM generate_series(1, USERS / 50 - 1) g;
SET session_replication_role = DEFAULT;
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="reuse a loaded database")
    args = parser.parse_args()
    url = urlsplit(os.environ["DATABASE_URL"])
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{DB_PREFIX}_wide"))
    from benchmarks.reports import create_database

    create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import User

    if not (args.keep and User.objects.filter(email="owner1@example.com").exists()):
        load()
    manager = User.objects.filter(email="manager-wide@example.com").first()
    manager = manager or User.objects.create_superuser(
        email="manager-wide@example.com", password=None
    )
    for name, step in steps(manager).items():
        queries, ms = database_time(step)
        print(f"{name:22} {queries:3} queries {ms:9.1f} ms")


def load() -> None:
    from django.db import connection

    from benchmarks.reports import wipe
    from mailing.mailing_counts import rebuild_mailing_counts

    wipe()
    with connection.cursor() as cursor:
        cursor.execute(LOAD.replace("USERS", str(USERS)))
    rebuild_mailing_counts()  # the replica role skipped the mailings' triggers
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def steps(manager) -> dict:
    from django.test import RequestFactory

    from mailing import dashboard
    from mailing.admin_reports import ReportIndexView

    request = RequestFactory().get("/")
    request.user = manager
    index = ReportIndexView(request=request)
    return {
        "figures": dashboard.FiguresPanel(manager).get_context_data,
        "last 30 days": lambda: dashboard.last_days_figures(manager),
        "blocked users": dashboard.BlockedUsersPanel(manager).rows,
        "disabled mailings": dashboard.DisabledMailingsPanel(manager).rows,
        "reports index": lambda: list(index.get_context_data()["mailings"]),
    }


def database_time(step) -> tuple[int, float]:
    """The step's SELECTs and the least, over REPEAT runs, of their summed
    planning and execution time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    step()
    with CaptureQueriesContext(connection) as captured:
        step()
    selects = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")
    ]
    best = float("inf")
    for _ in range(REPEAT):
        total = 0.0
        with connection.cursor() as cursor:
            for sql in selects:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)  # nosec B608
                plan = cursor.fetchone()[0][0]
                total += plan["Planning Time"] + plan["Execution Time"]
        best = min(best, total)
    return len(selects), best


if __name__ == "__main__":
    main()
