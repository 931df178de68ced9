"""The segment editor's words: each condition an owner can pick, as one choice.

A rule's choice is "type:op", "attribute:<key>:op" or "list:<id>:op"; the row's
second input is its value. The same labels describe a saved rule in listings.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ClientField, MailingList

Kind = ClientField.Kind

CLIENT_OPS = {
    "email_domain:is": gettext_lazy("Email domain is"),
    "email_domain:is_not": gettext_lazy("Email domain is not"),
    "full_name:contains": gettext_lazy("Name contains"),
    "full_name:not_contains": gettext_lazy("Name does not contain"),
    "full_name:is_set": gettext_lazy("Name is given"),
    "full_name:is_empty": gettext_lazy("Name is empty"),
    "signed_up:before": gettext_lazy("Added before (date)"),
    "signed_up:after": gettext_lazy("Added after (date)"),
    "signed_up:within_days": gettext_lazy("Added in the last N days"),
    "signed_up:not_within_days": gettext_lazy("Added more than N days ago"),
    "tag:has": gettext_lazy("Has tag"),
    "tag:has_not": gettext_lazy("Has no tag"),
    "engagement:opened": gettext_lazy("Opened in the last N days"),
    "engagement:clicked": gettext_lazy("Clicked in the last N days"),
    "engagement:not_opened": gettext_lazy("Did not open in the last N days"),
    "engagement:not_clicked": gettext_lazy("Did not click in the last N days"),
}
ATTRIBUTE_OPS = {
    "equals": gettext_lazy("%(field)s is"),
    "not_equals": gettext_lazy("%(field)s is not"),
    "contains": gettext_lazy("%(field)s contains"),
    "gt": gettext_lazy("%(field)s is more than"),
    "lt": gettext_lazy("%(field)s is less than"),
    "is_set": gettext_lazy("%(field)s is filled in"),
    "is_not_set": gettext_lazy("%(field)s is empty"),
}
KIND_OPS = {
    Kind.TEXT: ("equals", "not_equals", "contains", "is_set", "is_not_set"),
    Kind.NUMBER: ("equals", "not_equals", "gt", "lt", "is_set", "is_not_set"),
    Kind.DATE: ("equals", "not_equals", "gt", "lt", "is_set", "is_not_set"),
    Kind.BOOLEAN: ("equals", "is_set", "is_not_set"),
}
LIST_OPS = {
    "subscribed": gettext_lazy("Subscribed to “%(list)s”"),
    "unconfirmed": gettext_lazy("Unconfirmed on “%(list)s”"),
    "unsubscribed": gettext_lazy("Unsubscribed from “%(list)s”"),
    "member": gettext_lazy("On “%(list)s”, any status"),
    "not_member": gettext_lazy("Not on “%(list)s”"),
}


def condition_choices(owner_id: int) -> list:
    """Grouped choices for a select: the client's own, each field's, each list's."""
    groups = [(_("Client"), list(CLIENT_OPS.items()))]
    for field in ClientField.objects.filter(owner_id=owner_id).order_by("label"):
        groups.append((field.label, _attribute_choices(field)))
    lists = MailingList.objects.filter(owner_id=owner_id).order_by("name")
    for mailing_list in lists.only("pk", "name"):
        groups.append((mailing_list.name, _list_choices(mailing_list)))
    return groups


def _attribute_choices(field: ClientField) -> list:
    return [
        (f"attribute:{field.key}:{op}", ATTRIBUTE_OPS[op] % {"field": field.label})
        for op in KIND_OPS[field.kind]
    ]


def _list_choices(mailing_list: MailingList) -> list:
    return [
        (f"list:{mailing_list.pk}:{op}", label % {"list": mailing_list.name})
        for op, label in LIST_OPS.items()
    ]


def rule_from_choice(choice: str, value: str) -> dict:
    """The rule a row of the editor stands for (checked later by clean_rules)."""
    kind, _sep, rest = choice.partition(":")
    if kind == "attribute":
        key, _sep, op = rest.rpartition(":")
        return {"type": kind, "key": key, "op": op, "value": value}
    if kind == "list":
        pk, _sep, op = rest.rpartition(":")
        return {"type": kind, "list": pk, "op": op}
    return {"type": kind, "op": rest, "value": value}


def choice_of(rule: dict) -> tuple[str, str]:
    """A saved rule as the editor's (choice, value)."""
    kind, op = rule.get("type", ""), rule.get("op", "")
    if kind == "attribute":
        return f"attribute:{rule.get('key')}:{op}", _shown(rule.get("value"))
    if kind == "list":
        return f"list:{rule.get('list')}:{op}", ""
    return f"{kind}:{op}", _shown(rule.get("value"))


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def describe_rules(segment) -> str:
    """The segment's conditions in words, for listings (no query per row: fields
    by key, lists by number)."""
    joiner = _(" or ") if segment.match == "any" else _(" and ")
    return joiner.join(describe(rule) for rule in segment.rules) or _("Every client")


def describe(rule: dict) -> str:
    kind, op = rule.get("type"), rule.get("op")
    if kind == "attribute":
        label = ATTRIBUTE_OPS.get(op, op) % {"field": rule.get("key")}
    elif kind == "list":
        label = LIST_OPS.get(op, op) % {"list": f"#{rule.get('list')}"}
    else:
        label = CLIENT_OPS.get(f"{kind}:{op}", f"{kind}:{op}")
    return f"{label} {_shown(rule.get('value'))}".strip()
