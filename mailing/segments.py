"""Segments: saved filters over an owner's clients, compiled to one query (issue 12).

A segment's rules are a JSON list; each rule is a dict with a `type`, an `op` and
what the pair needs:

    {"type": "email_domain", "op": "is" | "is_not", "value": "example.com"}
    {"type": "full_name", "op": "contains" | "not_contains" | "is_set" | "is_empty",
     "value": "text"}
    {"type": "signed_up", "op": "before" | "after", "value": "2026-01-31"}
    {"type": "signed_up", "op": "within_days" | "not_within_days", "value": 30}
    {"type": "tag", "op": "has" | "has_not", "value": "vip"}
    {"type": "attribute", "key": "city", "op": "equals" | "not_equals" | "contains"
     | "gt" | "lt" | "is_set" | "is_not_set", "value": ...}
    {"type": "list", "list": 12, "op": "subscribed" | "unconfirmed" | "unsubscribed"
     | "member" | "not_member"}
    {"type": "engagement", "op": "opened" | "clicked" | "not_opened"
     | "not_clicked", "value": 90}

`clean_rules` checks them against the owner's lists and fields (a foreign list or
an undeclared field is "not found"); `segment_filter` turns them into one Q of
lookups and EXISTS subqueries: no client passes through Python.
"""

import json
from datetime import timedelta
from functools import reduce
from operator import and_, or_

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Exists,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.fields.json import KT, KeyTransform
from django.db.models.functions import Cast
from django.db.models.lookups import (
    Contains,
    Exact,
    GreaterThan,
    IContains,
    LessThan,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from .client_attributes import clean_tags, clean_value, declared_fields, refuse_nul
from .models import Client, ClientField, Event, MailingList, Segment, Subscription

MAX_RULES = 30
MAX_DAYS = 36500
Kind = ClientField.Kind

OPS = {
    "email_domain": ("is", "is_not"),
    "full_name": ("contains", "not_contains", "is_set", "is_empty"),
    "signed_up": ("before", "after", "within_days", "not_within_days"),
    "tag": ("has", "has_not"),
    "attribute": (
        "equals",
        "not_equals",
        "contains",
        "gt",
        "lt",
        "is_set",
        "is_not_set",
    ),
    "list": ("subscribed", "unconfirmed", "unsubscribed", "member", "not_member"),
    "engagement": ("opened", "clicked", "not_opened", "not_clicked"),
}
# Operators that compare an attribute by order, and the kinds they fit.
ORDERED_KINDS = (Kind.NUMBER, Kind.DATE)
VALUELESS = {"is_set", "is_empty", "is_not_set"}


# --- Checking ------------------------------------------------------------------------


def clean_rules(owner_id: int, rules) -> list[dict]:
    """The rules as stored, or ValidationError naming each bad rule by its number."""
    if not isinstance(rules, list):
        raise ValidationError(_("Conditions must be a list."))
    if len(rules) > MAX_RULES:
        raise ValidationError(_("At most %(max)d conditions.") % {"max": MAX_RULES})
    context = {"fields": declared_fields(owner_id), "owner_id": owner_id}
    cleaned, errors = [], []
    for number, rule in enumerate(rules, start=1):
        try:
            cleaned.append(clean_rule(rule, context))
        except ValidationError as error:
            errors.append(
                _("Condition %(number)d: %(error)s")
                % {"number": number, "error": " ".join(error.messages)}
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_rule(rule, context: dict) -> dict:
    if not isinstance(rule, dict):
        raise ValidationError(_("Not a condition."))
    kind, op = rule.get("type"), rule.get("op")
    if kind not in OPS:
        raise ValidationError(_("Unknown condition type."))
    if op not in OPS[kind]:
        raise ValidationError(_("This comparison does not fit this condition."))
    return {"type": kind, "op": op, **_CHECKS[kind](rule, op, context)}


def _text_value(rule, limit: int = 255) -> str:
    value = rule.get("value")
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(_("Give a value."))
    value = " ".join(refuse_nul(value).split())
    if len(value) > limit:
        raise ValidationError(_("At most %(max)d characters.") % {"max": limit})
    return value


def _days(rule) -> int:
    value = rule.get("value")
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_("Give a number of days."))
    if not 1 <= value <= MAX_DAYS:
        raise ValidationError(_("Between 1 and %(max)d days.") % {"max": MAX_DAYS})
    return value


def _check_domain(rule, op, context) -> dict:
    return {"value": _text_value(rule).lower().lstrip("@")}


def _check_name(rule, op, context) -> dict:
    return {} if op in VALUELESS else {"value": _text_value(rule)}


def _check_signed_up(rule, op, context) -> dict:
    if op in ("within_days", "not_within_days"):
        return {"value": _days(rule)}
    return {"value": clean_value(Kind.DATE, _text_value(rule))}


def _check_tag(rule, op, context) -> dict:
    tags = clean_tags([_text_value(rule)])
    return {"value": tags[0]}


def _check_attribute(rule, op, context) -> dict:
    key = rule.get("key")
    kind = context["fields"].get(key) if isinstance(key, str) else None
    if kind is None:
        raise ValidationError(_("Field not found."))
    if op in VALUELESS:
        return {"key": key}
    if op in ("gt", "lt") and kind not in ORDERED_KINDS:
        raise ValidationError(_("Only numbers and dates compare as more or less."))
    if op == "contains" and kind != Kind.TEXT:
        raise ValidationError(_("Only text fields can contain words."))
    value = clean_value(kind, rule.get("value"))
    if value is None:
        raise ValidationError(_("Give a value."))
    return {"key": key, "value": value}


def _check_list(rule, op, context) -> dict:
    pk = rule.get("list")
    if isinstance(pk, str) and pk.isdecimal():
        pk = int(pk)
    found = (
        isinstance(pk, int)
        and not isinstance(pk, bool)
        and MailingList.objects.filter(owner_id=context["owner_id"], pk=pk).exists()
    )
    if not found:
        raise ValidationError(_("List not found."))
    return {"list": pk}


def _check_engagement(rule, op, context) -> dict:
    return {"value": _days(rule)}


_CHECKS = {
    "email_domain": _check_domain,
    "full_name": _check_name,
    "signed_up": _check_signed_up,
    "tag": _check_tag,
    "attribute": _check_attribute,
    "list": _check_list,
    "engagement": _check_engagement,
}


# --- Compiling -----------------------------------------------------------------------


def segment_filter(owner_id: int, match: str, rules: list[dict]) -> Q:
    """One Q over Client for these (cleaned) rules: all of them, or any."""
    conditions = [_COMPILERS[rule["type"]](rule, owner_id) for rule in rules]
    if not conditions:
        return Q()
    return reduce(or_ if match == Segment.Match.ANY else and_, conditions)


def segment_clients(segment: Segment) -> QuerySet:
    """The owner's clients the segment matches (unsubscribed and suppressed
    included: mailing.audiences takes those out)."""
    return narrow(Client.objects.filter(owner_id=segment.owner_id), segment)


def narrow(clients: QuerySet, segment: Segment | None) -> QuerySet:
    if segment is None:
        return clients
    return clients.filter(
        segment_filter(segment.owner_id, segment.match, segment.rules)
    )


def _domain(rule, owner_id) -> Q:
    condition = Q(email__iendswith="@" + rule["value"])
    return condition if rule["op"] == "is" else ~condition


def _name(rule, owner_id) -> Q:
    op = rule["op"]
    if op in ("is_set", "is_empty"):
        condition = ~Q(full_name="")
        return condition if op == "is_set" else ~condition
    condition = Q(full_name__icontains=rule["value"])
    return condition if op == "contains" else ~condition


def _signed_up(rule, owner_id) -> Q:
    op, value = rule["op"], rule["value"]
    if op == "before":
        return Q(created_at__date__lt=value)
    if op == "after":
        return Q(created_at__date__gt=value)
    recent = Q(created_at__gte=timezone.now() - timedelta(days=value))
    return recent if op == "within_days" else ~recent


def has_tag(tag: str) -> Q:
    """Clients with this (cleaned) tag."""
    if connection.vendor == "postgresql":
        # jsonb @> '["vip"]': answered by the GIN index client_tags.
        return Q(tags__contains=[tag])
    # SQLite (development) has no JSON containment: the quoted tag in the text.
    return Q(Contains(Cast("tags", TextField()), json.dumps(tag)))


def _tag(rule, owner_id) -> Q:
    condition = has_tag(rule["value"])
    return condition if rule["op"] == "has" else ~condition


def _attribute(rule, owner_id) -> Q:
    op, key = rule["op"], rule["key"]
    present = Q(attributes__has_key=key)
    if op in ("is_set", "is_not_set"):
        return present if op == "is_set" else ~present
    value = rule["value"]
    if op in ("equals", "not_equals"):
        if connection.vendor == "postgresql":
            # jsonb @> '{"key": value}': answered by the GIN index client_attributes.
            condition = Q(attributes__contains={key: value})
        else:
            condition = Q(Exact(KeyTransform(key, "attributes"), value))
        return condition if op == "equals" else ~condition
    if op == "contains":
        return Q(IContains(KT(f"attributes__{key}"), value))
    compare = GreaterThan if op == "gt" else LessThan
    # jsonb order within one type: numbers by value, ISO dates as strings.
    if connection.vendor == "postgresql":
        value = Value(value, output_field=JSONField())  # compared as jsonb
    return present & Q(compare(KeyTransform(key, "attributes"), value))


def _list(rule, owner_id) -> Q:
    op = rule["op"]
    members = Subscription.objects.filter(
        client=OuterRef("pk"),
        mailing_list_id=rule["list"],
        mailing_list__owner_id=owner_id,
    )
    if op in ("member", "not_member"):
        return Q(Exists(members)) if op == "member" else ~Q(Exists(members))
    return Q(Exists(members.filter(status=op)))


def _engagement(rule, owner_id) -> Q:
    op = rule["op"]
    kind = Event.Kind.OPENED if op.endswith("opened") else Event.Kind.CLICKED
    events = Event.objects.filter(
        attempt__client=OuterRef("pk"),
        kind=kind,
        at__gte=timezone.now() - timedelta(days=rule["value"]),
    ).exclude(verdict=Event.Verdict.SCANNER)  # a link scanner is not a reader
    return ~Q(Exists(events)) if op.startswith("not_") else Q(Exists(events))


_COMPILERS = {
    "email_domain": _domain,
    "full_name": _name,
    "signed_up": _signed_up,
    "tag": _tag,
    "attribute": _attribute,
    "list": _list,
    "engagement": _engagement,
}
