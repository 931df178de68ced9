"""One client's values as they are stored, checked the same way whoever brings
them: a row of an imported file or of the API's bulk request.

A row holds only the fields it was given: a field the file has no column for (or
the request leaves out) is absent, never blank, so it can never empty what an
existing client already has (mailing.client_writes decides what to overwrite).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .addresses import AddressError, normalise_email, normalise_name
from .client_attributes import refuse_nul
from .zones import validate_time_zone

FIELDS = ("email", "full_name", "comment", "time_zone")
MAX_EMAIL, MAX_COMMENT = 254, 10_000


class RowProblem(ValueError):
    """Why a row cannot be stored, and the field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def clean_client(values: dict[str, str]) -> dict[str, str]:
    """The row's fields as stored (email always; the others if given), or
    RowProblem."""
    # PostgreSQL stores no NUL: refused here, not at the INSERT, under its field.
    for field, value in values.items():
        _checked(field, refuse_nul, value)
    email = values.get("email", "").strip()
    if not email:
        # Not "Invalid email: " with nothing after it.
        raise RowProblem("email", _("This row has no email address."))
    if len(email) > MAX_EMAIL:
        raise RowProblem("email", _("The email is too long."))
    cleaned = {"email": _checked("email", normalise_email, email)}
    if "full_name" in values:
        cleaned["full_name"] = _checked(
            "full_name", normalise_name, values["full_name"]
        )
    if "comment" in values:
        if len(values["comment"]) > MAX_COMMENT:
            raise RowProblem("comment", _("The comment is too long."))
        cleaned["comment"] = values["comment"].strip()
    if "time_zone" in values:
        cleaned["time_zone"] = _time_zone(values["time_zone"].strip())
    return cleaned


def _checked(field: str, check, value: str) -> str:
    try:
        return check(value.strip())
    except AddressError as error:
        raise RowProblem(field, str(error)) from error
    except ValidationError as error:
        raise RowProblem(field, " ".join(error.messages)) from error


def _time_zone(name: str) -> str:
    try:
        validate_time_zone(name)
    except ValidationError as error:
        raise RowProblem("time_zone", " ".join(error.messages)) from error
    return name
