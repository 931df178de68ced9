"""Huey tasks.

STAND-IN: `send_run` is replaced at merge by the sending branch's real task.
"""

import logging

from huey.contrib.djhuey import db_task

logger = logging.getLogger(__name__)


@db_task()
def send_run(run_id: int) -> None:
    logger.info("send_run(%s) queued (stand-in: the sending branch sends)", run_id)
