"""The mailing domain, a module per idea. Field names are an interface that operators
and tools use. Import models from here (`from mailing.models import Client`)."""

from .audiences import (
    ListMemberCount,
    MailingList,
    Subscription,
    SubscriptionQuerySet,
)
from .clients import (
    UNDELIVERABLE,
    Client,
    OwnerClientCount,
    ServiceAddress,
    ServiceAddressCount,
)
from .events import Event, EventQuerySet, RunDayCounts, RunHourCounts, TrackedLink
from .history import OwnedLogEntry
from .imports import ImportJob, ImportRejection
from .layouts import EmailLayout, EmailLayoutQuerySet
from .leases import ConsumerLease
from .mailings import Mailing, MailingCount, MailingQuerySet
from .messages import Message
from .ownership import (
    MailingOwnedQuerySet,
    OwnedQuerySet,
    is_owned_model,
    no_line_breaks,
    owned_by,
    owner_id_of,
    sees_any_rows,
    sees_every_owner,
    sees_whole_tables,
    single_line,
    works_only_with_mailings,
)
from .runs import Attempt, MailingRun
from .segments import ClientField, Segment
from .senders import SenderIdentity, SenderIdentityQuerySet
from .subscribe import Consent, SubscribeForm
from .subscribe_page import SubscribePage
from .suppression import Suppression, SuppressionRemoval

__all__ = [
    "UNDELIVERABLE",
    "Attempt",
    "Client",
    "Consent",
    "ClientField",
    "ConsumerLease",
    "EmailLayout",
    "EmailLayoutQuerySet",
    "Event",
    "ImportJob",
    "ImportRejection",
    "EventQuerySet",
    "Mailing",
    "MailingOwnedQuerySet",
    "MailingCount",
    "MailingQuerySet",
    "MailingList",
    "MailingRun",
    "Message",
    "OwnedLogEntry",
    "OwnedQuerySet",
    "RunDayCounts",
    "RunHourCounts",
    "Segment",
    "OwnerClientCount",
    "ServiceAddress",
    "ServiceAddressCount",
    "SenderIdentity",
    "SenderIdentityQuerySet",
    "Subscription",
    "SubscribeForm",
    "SubscribePage",
    "ListMemberCount",
    "Suppression",
    "SuppressionRemoval",
    "SubscriptionQuerySet",
    "TrackedLink",
    "is_owned_model",
    "single_line",
    "no_line_breaks",
    "owned_by",
    "owner_id_of",
    "sees_any_rows",
    "sees_every_owner",
    "works_only_with_mailings",
    "sees_whole_tables",
]
