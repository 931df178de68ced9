"""Huey tasks: thin wake-up calls into the services.

Huey loses a task in flight when its consumer dies and `lock_task` never expires,
so nothing here relies on Huey for correctness: runs are unique in the database,
rows are claimed there, and the sweeper finishes whatever a dead consumer left.
"""

import time

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import (
    event_queue,
    import_jobs,
    imports,
    senders,
    services,
    subscribe,
    subscribe_emails,
)
from .api import idempotency
from .sending import pipeline


@db_periodic_task(crontab(minute="*"))
def schedule_due_mailings():
    services.open_scheduled_runs(timezone.now())


@db_periodic_task(crontab(minute="*"))
def sweep_stalled_runs():
    services.sweep_stalled_runs(timezone.now())


@db_periodic_task(crontab(minute="7"))
def sweep_import_uploads():
    imports.sweep_stashes(time.time())


@db_periodic_task(crontab(minute="*"))
def resume_stalled_imports():
    import_jobs.resume_stalled_imports(timezone.now())


# Also what a dead recorder left pending, and events whose wake-up was lost.
@db_periodic_task(crontab(minute="*"))
def sweep_queued_events():
    event_queue.drain()


@db_periodic_task(crontab(minute="23"))
def sweep_idempotency_keys():
    idempotency.sweep(timezone.now())


# Retries cover a database hiccup; rows already claimed are settled by the sweeper.
@db_task(retries=3, retry_delay=30)
def send_run(run_id: int):
    pipeline.send_run(run_id)


# The rest of an outbox whose writer died (the sweeper's call); chunks are fenced.
@db_task(retries=3, retry_delay=30)
def write_outbox(run_id: int):
    services.write_and_enqueue(run_id)


# A mail server restart must not cost the link; about a quarter of an hour in all.
@db_task(retries=5, retry_delay=30, retry_backoff=2)
def send_sender_confirmation(identity_id: int):
    senders.send_confirmation(identity_id)


# A request from a public form: queued so that every address is answered alike.
@db_task(retries=3, retry_delay=30)
def handle_subscription_request(form_id: int, email: str, name: str, *details):
    subscribe.handle_request(form_id, email, name, *details)


# Like the sender's link: a mail server restart must not cost a subscriber's.
@db_task(retries=5, retry_delay=30, retry_backoff=2)
def send_subscription_confirmation(consent_id: int, language: str):
    subscribe_emails.send_confirmation(consent_id, language)


# A dead consumer is covered by resume_stalled_imports; retries cover a hiccup.
@db_task(retries=3, retry_delay=30)
def import_clients_job(job_id: int):
    import_jobs.run_import(job_id)


# Woken by the webhook view (mailing.event_queue); what fails stays queued.
@db_task()
def record_queued_events(helper=False):
    if helper:
        event_queue.help_drain()
    else:
        event_queue.drain()
