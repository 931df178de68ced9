"""Every API error as JSON: a stable `code`, a human `message` in the request's
language and, for validation errors, `fields` naming each field's problems."""

import math

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions
from rest_framework.views import exception_handler

from site_config.errors import too_large_reason


def _first_code(codes) -> str:
    while isinstance(codes, (list, dict)) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else "error"


def _messages(detail) -> list[str] | dict:
    if isinstance(detail, dict):
        return {name: _messages(value) for name, value in detail.items()}
    if isinstance(detail, list):
        return [
            message
            for item in detail
            for message in (
                [_messages(item)] if isinstance(item, dict) else _messages(item)
            )
        ]
    return [str(detail)]


def throttled_reason(wait: float) -> str:
    seconds = max(1, math.ceil(wait))
    return ngettext(
        "Too many requests: try again in %(seconds)d second.",
        "Too many requests: try again in %(seconds)d seconds.",
        seconds,
    ) % {"seconds": seconds}


class TooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


def handle_exception(exc, context):
    # DRF's handler turns Http404 and PermissionDenied into its own exceptions and
    # sets WWW-Authenticate and Retry-After: keep its response, reshape its body.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django's own 400 page is HTML with no reason, to a client reading JSON.
        exc = TooLarge(too_large_reason())
    elif isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        # DRF's "Expected available in N seconds." has no Russian in its catalogue.
        exc = exceptions.Throttled(exc.wait, detail=throttled_reason(exc.wait))
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
        fields = _messages(detail)
        general = fields.pop("non_field_errors", []) + fields.pop("", [])
        response.data = {
            "code": "invalid",
            "message": " ".join(general) or _("Some fields are not valid."),
            "fields": fields,
        }
        return response
    detail = getattr(exc, "detail", "")
    response.data = {
        "code": _first_code(exc.get_codes()) if hasattr(exc, "get_codes") else "error",
        "message": " ".join(_messages(detail)),
    }
    return response
