"""Read delivery status notifications from a local MTA: `manage.py read_dsn`.

Postfix's master.cf, for mail to the bounce domain (EMAIL_BOUNCE_DOMAIN):
    vestnik-dsn unix - n n - - pipe flags=Rq user=vestnik
      argv=/srv/vestnik/.venv/bin/python /srv/vestnik/manage.py read_dsn
      --recipient ${recipient}
or files: `manage.py read_dsn ~/Maildir/new/*` (each file one message) or a
Maildir folder. Exit status for the pipe: 0 once a message is read, whether or
not it was a report (bouncing a bounce helps no one); 75 (EX_TEMPFAIL) when the
database failed, so the MTA keeps the message and tries again.
"""

import mailbox
import sys
from email import message_from_binary_file, policy
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from mailing.dsn import record_dsn

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Apply delivery status notifications read from stdin, files or a Maildir."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="message files or Maildir folders")
        parser.add_argument(
            "--recipient", default="", help="the envelope recipient (the MTA's)"
        )

    def handle(self, *args, paths=(), recipient="", **options):
        try:
            if not paths:
                self._record("stdin", _parse(sys.stdin.buffer), recipient)
            for path in map(Path, paths):
                for name, message in _messages(path):
                    self._record(name, message, recipient)
        except DatabaseError as error:
            self.stderr.write(f"database error, try again later: {error}")
            sys.exit(EX_TEMPFAIL)

    def _record(self, name: str, message, recipient: str) -> None:
        self.stdout.write(f"{name}: {record_dsn(message, recipient)}")


def _parse(stream):
    return message_from_binary_file(stream, policy=policy.default)


def _messages(path: Path):
    if (path / "cur").is_dir() or (path / "new").is_dir():
        folder = mailbox.Maildir(path, factory=None, create=False)
        for key in folder.keys():
            with folder.get_file(key) as stream:
                yield f"{path}/{key}", _parse(stream)
        return
    if not path.is_file():
        raise CommandError(f"{path}: no such file or Maildir folder")
    with path.open("rb") as stream:
        yield str(path), _parse(stream)
