"""Writes validated and saved by the admin's own forms (mailing.forms), so that a
sender identity or a layout is refused through the API exactly as in the admin.

A layout's blocks come as Wagtail's JSON stream ([{"type": ..., "value": ...}]),
read by a widget of our own; the field's cleaning is still the block's own.
"""

import re

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from wagtail.blocks import BlockField, ChooserBlock, StreamValue, StructBlock
from wagtail.documents.models import AbstractDocument
from wagtail.images.models import AbstractImage
from wagtail.permissions import policy_registry

NOT_A_STREAM = _('A list of blocks, each {"type": ..., "value": ...}.')
NOT_AN_ID = _("A valid integer is required.")
NOT_FOUND = _("Not found: %(ids)s.")
# The largest id a row can have (a bigint): past it a lookup is no lookup (SQLite
# cannot even bind the number).
MAX_ID = 2**63 - 1
INTEGER = re.compile(r"-?[0-9]{1,30}")


class JsonStreamWidget(forms.Widget):
    """The stream as the API sends it: JSON data, not the editor's form fields."""

    def __init__(self, block):
        super().__init__()
        self.block = block

    def value_from_datadict(self, data, files, name):
        return stream_value(self.block, data.get(name))

    def value_omitted_from_data(self, data, files, name):
        return name not in data


class BadStream(StreamValue):
    """Data that is no stream of these blocks: refused by `clean_stream`."""


def stream_value(block, raw):
    if isinstance(raw, StreamValue):
        return raw
    if not isinstance(raw, list) or not all(
        isinstance(item, dict) and item.get("type") in block.child_blocks
        for item in raw
    ):
        return BadStream(block, [])
    try:
        value = block.to_python(raw)
        # Expanded now: a child's value of the wrong shape fails here, not later.
        [child.value for child in value]  # noqa: B018
    except (TypeError, ValueError, KeyError, AttributeError, DjangoValidationError):
        return BadStream(block, [])
    return value


class JsonBlockField(BlockField):
    def __init__(self, block, **kwargs):
        kwargs["widget"] = JsonStreamWidget(block)
        super().__init__(block=block, **kwargs)

    def clean(self, value):
        if isinstance(value, BadStream):
            raise DjangoValidationError(NOT_A_STREAM, code="invalid")
        return super().clean(value)


def api_form_class(form_class):
    """The admin form, its StreamFields reading JSON."""
    streams = {
        name: JsonBlockField(
            field.block, required=field.required, help_text=field.help_text
        )
        for name, field in form_class.base_fields.items()
        if isinstance(field, BlockField)
    }
    return type(f"Api{form_class.__name__}", (form_class,), streams)


def run_form(form_class, user, attrs: dict, instance=None):
    """The bound, valid form for `attrs` over `instance`; its errors as DRF's, by
    field. A field left out keeps its value (PATCH), or on a new row takes what
    the admin's empty form shows (a layout: the owner's language, the starting
    blocks)."""
    fields = list(form_class.base_fields)
    if instance is None:
        empty = form_class(for_user=user)
        kept = {**model_to_dict(empty.instance, fields=fields), **empty.initial}
    else:
        kept = model_to_dict(instance, fields=fields)
    data = {**kept, **attrs}
    form = form_class(data=data, instance=instance, for_user=user)
    if not form.is_valid():
        raise serializers.ValidationError(form_errors(form))
    return form


def form_errors(form) -> dict:
    errors = {}
    for name, field_errors in form.errors.as_data().items():
        key = "non_field_errors" if name == "__all__" else name
        errors[key] = [
            serializers.ErrorDetail(text, code=error.code or "invalid")
            for error in field_errors
            for text in error_texts(error, key if is_block_error(error) else "")
        ]
    return errors


def is_block_error(error) -> bool:
    return hasattr(error, "block_errors")


def error_texts(error, where: str = "") -> list[str]:
    """A block's errors name the block (`body[2].url`); others are their messages."""
    if not is_block_error(error):
        texts = [str(message) for message in error.messages]
    else:
        texts = [str(message) for message in getattr(error, "non_block_errors", [])]
    texts = [f"{where}: {text}" if where else text for text in texts]
    for key, child in (getattr(error, "block_errors", None) or {}).items():
        step = f"[{key}]" if isinstance(key, int) else f".{key}"
        texts += error_texts(child, where + step)
    return texts


def chooser_problems(block, raw, user, where: str) -> list[str]:
    """A stream's chosen ids (a logo, a button's page) that name nothing the user
    may choose, as "body[0].logo: ..." texts; a good id sent as text ("5") is
    made a number in `raw`, as DRF reads ids. Checked on the JSON as sent: the
    block's to_python turns an unknown id (-1, 0, 1.5, "5", another collection's
    image) into "none chosen", and the layout was stored without its logo."""
    if not isinstance(raw, list):
        return []  # not a stream: the form says so
    problems = []
    for index, item in enumerate(raw):
        child = (
            block.child_blocks.get(item.get("type")) if isinstance(item, dict) else None
        )
        if child is not None:
            problems += _choice_problems(
                child, item, "value", user, f"{where}[{index}]"
            )
    return problems


def _choice_problems(block, parent: dict, key: str, user, where: str) -> list[str]:
    """The problems of `parent[key]`, a value of `block`."""
    value = parent.get(key)
    if isinstance(block, ChooserBlock):
        pk, problem = chosen_id(block.model_class, value, user)
        if problem:
            return [f"{where}: {problem}"]
        if key in parent:
            parent[key] = pk
        return []
    if not isinstance(block, StructBlock) or not isinstance(value, dict):
        return []
    return [
        problem
        for name, child in block.child_blocks.items()
        for problem in _choice_problems(child, value, name, user, f"{where}.{name}")
    ]


def chosen_id(model, value, user) -> tuple[int | None, str | None]:
    """(the id, None) if `value` is the id of a `model` row `user` may choose, or
    empty (none chosen, which the block's `required` judges); else (None, why)."""
    if value is None:
        return None, None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and INTEGER.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None, str(NOT_AN_ID)
    if not 0 < value <= MAX_ID or not choosable(model, user).filter(pk=value).exists():
        return None, str(NOT_FOUND % {"ids": value})
    return value, None


def choosable(model, user):
    """What the admin's chooser offers `user`: images and documents by Wagtail's
    "choose" permission on their collection; other rows (pages) all, each
    block or form judging them further (mailing.layout_choices)."""
    if issubclass(model, AbstractImage | AbstractDocument):
        policy = policy_registry.get_by_type(model)
        return policy.instances_user_has_any_permission_for(user, ["choose"])
    return model._default_manager.all()
