"""Account emails go through Huey: a slow or down mail server never holds a request.

Retries back off from 30 s to 8 min, about a quarter of an hour in all: enough for
a mail server restart, while a person may still be waiting for the link.
"""

from huey.contrib.djhuey import db_task

from . import emails

RETRIES = {"retries": 5, "retry_delay": 30, "retry_backoff": 2}


@db_task(**RETRIES)
def send_verification_email(user_id: int):
    emails.send_verification_email(user_id)


@db_task(**RETRIES)
def send_existing_account_email(user_id: int):
    emails.send_existing_account_email(user_id)


@db_task(**RETRIES)
def send_email_change_link(user_id: int, new_email: str):
    emails.send_email_change_link(user_id, new_email)


@db_task(**RETRIES)
def send_password_reset_email(user_id: int):
    emails.send_password_reset_email(user_id)


@db_task(**RETRIES)
def send_email_changed_notice(user_id: int, old_email: str):
    emails.send_email_changed_notice(user_id, old_email)
