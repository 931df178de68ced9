"""The mailing domain, a module per idea. Field names are an interface that operators
and tools use. Import models from here (`from mailing.models import Client`)."""

from .clients import Client
from .layouts import EmailLayout, EmailLayoutQuerySet
from .mailings import Mailing, MailingQuerySet
from .messages import Message
from .ownership import (
    MailingOwnedQuerySet,
    OwnedQuerySet,
    no_line_breaks,
    sees_every_owner,
)
from .runs import Attempt, MailingRun
from .senders import SenderIdentity, SenderIdentityQuerySet

__all__ = [
    "Attempt",
    "Client",
    "EmailLayout",
    "EmailLayoutQuerySet",
    "Mailing",
    "MailingOwnedQuerySet",
    "MailingQuerySet",
    "MailingRun",
    "Message",
    "OwnedQuerySet",
    "SenderIdentity",
    "SenderIdentityQuerySet",
    "no_line_breaks",
    "sees_every_owner",
]
