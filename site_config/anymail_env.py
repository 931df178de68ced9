"""Anymail's settings from ANYMAIL_* environment variables, with their types.

The environment holds only strings, and Anymail reads what it is given: the string
"False" for AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS would be true, and a dict of
boto3 parameters would be a string it cannot use. Settings Anymail reads as
booleans, numbers, dicts or lists are converted here by the end of their name
(`ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY` -> ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]).
base.py passes os.environ in: it stays the only settings module that reads it.
https://anymail.dev/en/stable/installation/#anymail-settings-reference
"""

import json
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

PREFIX = "ANYMAIL_"
BOOLEANS = (
    "AUTO_CONFIRM_SNS_SUBSCRIPTIONS",
    "DEBUG_API_REQUESTS",
    "GENERATE_MESSAGE_ID",
    "IGNORE_RECIPIENT_STATUS",
    "IGNORE_UNSUPPORTED_FEATURES",
    "PREVENT_HEADER_ENCODING_BUGS",
    "TRACK_INITIAL_OPEN_AS_OPENED",
    "USE_BULK_API",
    "VERIFY_ATTACHMENT_EXTENSIONS",
    "WORKAROUND_DISPLAY_NAME_BUGS",
)
INTEGERS = ("DOWNLOAD_CHUNK_SIZE",)
JSON_OBJECTS = ("CLIENT_PARAMS", "SESSION_PARAMS", "SEND_DEFAULTS")
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def anymail_settings(environ: Mapping[str, str]) -> dict:
    return {
        key.removeprefix(PREFIX): _typed(key, value)
        for key, value in environ.items()
        if key.startswith(PREFIX)
    }


def _typed(key: str, value: str):
    if key == PREFIX + "WEBHOOK_SECRET":
        # Several "user:password" pairs, comma-separated, let a secret be rotated.
        pairs = [pair.strip() for pair in value.split(",") if pair.strip()]
        return pairs[0] if len(pairs) == 1 else pairs
    if key.endswith(BOOLEANS):
        return _boolean(key, value)
    if key.endswith(INTEGERS):
        return _integer(key, value)
    if key.endswith(JSON_OBJECTS):
        return _json_object(key, value)
    return value


def _boolean(key: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE | FALSE:
        return word in TRUE
    raise ImproperlyConfigured(f"{key} must be true or false, not {value!r}")


def _integer(key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{key} must be a whole number") from None


def _json_object(key: str, value: str) -> dict:
    try:
        parsed = json.loads(value or "{}")
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured(
            f'{key} must be a JSON object, e.g. {{"region_name": "eu-west-1"}}'
        )
    return parsed
