"""`Idempotency-Key` on POST: the first answer is stored per user and key, and a
retry with the same key and the same request gets it again without the work being
done twice. The claim is committed before the work starts, so a retry that
arrives while the first request runs is told so (409) instead of racing it."""

import hashlib
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from accounts.models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY = 255
# How long a key is remembered: retries come within minutes, a day is plenty.
KEEP = timedelta(hours=24)


class KeyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_conflict"
    default_detail = _("A request with this Idempotency-Key is still being handled.")


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = _("This Idempotency-Key was used with a different request.")


class Replay(Exception):  # noqa: N818 - not an error: the stored answer is the answer
    def __init__(self, record: IdempotentRequest):
        self.record = record


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.get_full_path()):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def claim(user, key: str, request) -> IdempotentRequest:
    """The new record for this key; Replay with the stored one if it has an answer."""
    if len(key) > MAX_KEY:
        raise exceptions.ValidationError(
            {HEADER: [_("At most 255 characters.")]}, code="invalid"
        )
    print_ = fingerprint(request)
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(
                user=user, key=key, fingerprint=print_
            )
    except IntegrityError:
        pass
    record = IdempotentRequest.objects.get(user=user, key=key)
    if record.fingerprint != print_:
        raise KeyReused()
    if record.status is None:
        raise KeyConflict()
    raise Replay(record)


def settle(record: IdempotentRequest, response) -> None:
    """Keep the answer; a server error frees the key for a retry."""
    if response.status_code >= 500 or not hasattr(response, "data"):
        IdempotentRequest.objects.filter(pk=record.pk).delete()
        return
    IdempotentRequest.objects.filter(pk=record.pk).update(
        status=response.status_code, body=response.data
    )


def sweep(now: datetime) -> int:
    """Forget keys older than KEEP; returns how many."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=now - KEEP).delete()
    return deleted
