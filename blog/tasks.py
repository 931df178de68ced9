"""Huey wakes these up every minute; the work is in services and in Wagtail."""

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from home.page_cache import invalidate_pages

from .services import flush_view_counts


@db_periodic_task(crontab(minute="*"))
def flush_view_counts_task():
    if flush_view_counts():
        # The shown counts live in cached pages: let them catch up now.
        invalidate_pages()


@db_periodic_task(crontab(minute="*"))
def publish_scheduled_pages():
    # Wagtail's own command publishes due revisions and unpublishes expired pages;
    # its page_published / page_unpublished signals drop the cached pages.
    call_command("publish_scheduled")
