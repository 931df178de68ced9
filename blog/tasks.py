"""Huey wakes these up every minute; the work is in services and in Wagtail."""

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import flush_view_counts


@db_periodic_task(crontab(minute="*"))
def flush_view_counts_task():
    # No page is dropped: a cached post shows its count as of its render, for its
    # page_cache_seconds at most, instead of every page of the site being dropped
    # every minute there is traffic.
    flush_view_counts()


@db_periodic_task(crontab(minute="*"))
def publish_scheduled_pages():
    # Wagtail's own command publishes due revisions and unpublishes expired pages;
    # its page_published / page_unpublished signals drop the cached pages.
    call_command("publish_scheduled")
