"""A client's tags and custom attributes, checked against the owner's declared
fields (issue 12). Every caller (the client form, the API, bulk upsert, imports)
stores what these functions return, so segments and merge tags can trust the types:
text is a string, a number a JSON number, a date "YYYY-MM-DD", a yes/no a boolean.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import F, Func, JSONField, Value
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from .models import Client, ClientField

Kind = ClientField.Kind
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
MAX_TEXT_LENGTH = 1000
TRUE_WORDS = {"true", "1", "yes", "y", "on", "да", "д"}
FALSE_WORDS = {"false", "0", "no", "n", "off", "нет", "н"}


def declared_fields(owner_id: int) -> dict[str, str]:
    """The owner's field keys and their kinds."""
    return dict(
        ClientField.objects.filter(owner_id=owner_id).values_list("key", "kind")
    )


def refuse_nul(text: str) -> str:
    """The text, unless it holds a NUL: not text to anyone, and PostgreSQL stores
    it in neither a text nor a jsonb column (the INSERT would fail, a 500)."""
    if "\x00" in text:
        raise ValidationError(_("The text contains a NUL character."))
    return text


def clean_tags(value) -> list[str]:
    """Tags as stored: lower case, single-spaced, unique, sorted. Accepts a list or
    a comma-separated string."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(
        isinstance(tag, str) for tag in value
    ):
        raise ValidationError(_("Tags must be a list of words."))
    tags = {" ".join(refuse_nul(tag).split()).lower() for tag in value} - {""}
    too_long = [tag for tag in tags if len(tag) > MAX_TAG_LENGTH]
    if too_long:
        raise ValidationError(
            _("A tag is at most %(max)d characters: %(tag)s")
            % {"max": MAX_TAG_LENGTH, "tag": too_long[0][:80]}
        )
    if len(tags) > MAX_TAGS:
        raise ValidationError(_("At most %(max)d tags.") % {"max": MAX_TAGS})
    return sorted(tags)


def tag_list(value) -> list | None:
    """Tags as JSON gives them: a list (null empties them). A string is refused:
    read as a comma-separated cell (the file import's rule), "vip" was taken as a
    tag where the client program meant a list and got the type wrong."""
    if value is not None and not isinstance(value, list):
        raise ValidationError(_("Tags must be a list of words."))
    return value


def clean_attributes(owner_id: int, value, fields: dict | None = None) -> dict:
    """The attribute bag as stored: declared keys only, each value of its field's
    type; an empty value removes the key. All errors are reported at once."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("Attributes must be an object of field: value."))
    fields = declared_fields(owner_id) if fields is None else fields
    cleaned, errors = {}, []
    for key, raw in value.items():
        if key not in fields:
            errors.append(_("Unknown field: %(key)s.") % {"key": str(key)[:80]})
            continue
        try:
            typed = clean_value(fields[key], raw)
        except ValidationError as error:
            errors.append(f"{key}: {' '.join(error.messages)}")
            continue
        if typed is not None:
            cleaned[key] = typed
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_value(kind: str, raw):
    """One value of a field of `kind`, as stored; None for empty."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return _CLEANERS[kind](raw)


def _text(raw) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValidationError(_("Expected text."))
    text = " ".join(refuse_nul(str(raw)).split())
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationError(
            _("At most %(max)d characters.") % {"max": MAX_TEXT_LENGTH}
        )
    return text


def _number(raw) -> int | float:
    if isinstance(raw, bool):
        raise ValidationError(_("Expected a number."))
    if isinstance(raw, int | float):
        number = Decimal(str(raw))
    else:
        try:
            # Russian spreadsheets write "1 234,5".
            number = Decimal(str(raw).strip().replace(" ", "").replace(",", "."))
        except InvalidOperation:
            raise ValidationError(_("Expected a number.")) from None
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        raise ValidationError(_("Expected a number."))
    return int(number) if number == number.to_integral_value() else float(number)


def _date(raw) -> str:
    if isinstance(raw, date):
        return raw.isoformat()
    parsed = None
    if isinstance(raw, str):
        text = raw.strip()
        try:
            parsed = parse_date(text) or _russian_date(text)
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError(_("Expected a date, YYYY-MM-DD."))
    return parsed.isoformat()


def _russian_date(text: str) -> date | None:
    day, dot, rest = text.partition(".")
    month, dot2, year = rest.partition(".")
    if not (dot and dot2 and day.isdigit() and month.isdigit() and year.isdigit()):
        return None
    return date(int(year), int(month), int(day))


def _boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(_("Expected yes or no."))


_CLEANERS = {
    Kind.TEXT: _text,
    Kind.NUMBER: _number,
    Kind.DATE: _date,
    Kind.BOOLEAN: _boolean,
}


class _WithoutKey(Func):
    """The JSON object without one key (PostgreSQL `-`, SQLite json_remove)."""

    arg_joiner = " - "
    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra):
        column, key = self.get_source_expressions()
        path = Value(f"$.{key.value}")
        remove = Func(column, path, function="json_remove", output_field=JSONField())
        return remove.as_sql(compiler, connection)


def forget_field(sender, instance: ClientField, **kwargs) -> None:
    """A deleted field's values go with it (one UPDATE): clients keep only
    declared keys, so every form and import can check strictly."""
    Client.objects.filter(
        owner_id=instance.owner_id, attributes__has_key=instance.key
    ).update(
        attributes=_WithoutKey(
            F("attributes"), Value(instance.key), output_field=JSONField()
        )
    )
