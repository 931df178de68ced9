"""sending.anymail_batch: each batch ESP's payload, built from our parsed
addresses and plain values, is the payload Anymail builds from the address
strings; Mailgun's form goes as multipart/form-data. Fails when an Anymail
upgrade changes how a payload is built (the module's docstring says what)."""

import json
import re
import uuid
import warnings

import pytest
import requests
from anymail.message import AnymailMessage
from django.test import override_settings
from django.utils.module_loading import import_string
from urllib3.filepost import encode_multipart_formdata

from mailing.sending import anymail_batch
from mailing.sending.capabilities import BATCH_SYNTAX, capabilities_of
from tests.mailing.esp_stubs import form_fields
from tests.mailing.test_esp_runs import KEYS

# (the address as a string, display name, address): names with a comma, quotes
# and Cyrillic, an IDN domain, a quoted local part.
RECIPIENTS = [
    ("plain@example.org", "", "plain@example.org"),
    ("Ann Reader <ann@example.org>", "Ann Reader", "ann@example.org"),
    ('"Reader, Jr." <jr@example.org>', "Reader, Jr.", "jr@example.org"),
    ('"Bob \\"B\\" Smith" <bob@example.org>', 'Bob "B" Smith', "bob@example.org"),
    ("Иван Петров <ivan@example.org>", "Иван Петров", "ivan@example.org"),
    ("Idn <user@пример.рф>", "Idn", "user@пример.рф"),
    ('"first last"@example.org', "", '"first last"@example.org'),
]
BATCH_ESPS = sorted(set(BATCH_SYNTAX) - {"sendinblue"})  # Brevo's old name


def message(esp: str, to: list) -> AnymailMessage:
    syntax = BATCH_SYNTAX[esp]
    field = syntax.field.format("name")
    email = AnymailMessage(
        subject=f"News for {field}",
        body=f"Dear {field}",
        from_email="Vestnik <news@example.com>",
        to=to,
    )
    email.attach_alternative(f"<p>Dear {field}</p>", "text/html")
    emails = [entry[2] for entry in RECIPIENTS]
    email.merge_data = {e: {"name": f"N{n}"} for n, e in enumerate(emails)}
    email.merge_metadata = {e: {"attempt": f"t{n}"} for n, e in enumerate(emails)}
    email.merge_headers = {
        e: {"List-Unsubscribe": f"<https://example.com/u/{n}>"}
        for n, e in enumerate(emails)
    }
    email.metadata = {"run_id": 7}
    email.esp_extra = syntax.esp_extra or {}
    return email


def batch_backend(path: str):
    """The backend as sending.esp.EspBatches.connect makes it."""
    payload_class = capabilities_of(path).payload
    backend_class = anymail_batch.batch_backend_class(
        import_string(path), payload_class
    )
    return backend_class(fail_silently=False)


def request_of(backend, email) -> dict:
    payload = backend.build_message_payload(email, backend.send_defaults)
    return payload.get_request_params(backend.api_url)


# Ids Anymail makes afresh for each payload (SendGrid's and Unisender Go's).
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def readable(params: dict):
    """What goes to the ESP, whichever way a form is encoded."""
    data = params["data"]
    if isinstance(data, bytes):  # a form we wrote as multipart/form-data
        return form_fields(data)
    if not isinstance(data, dict):
        return {"json": json.loads(UUID.sub("(uuid)", data))}
    fields = {name: _values(value) for name, value in data.items()}
    for name, (_filename, value) in params["files"] or []:
        fields.setdefault(name, []).append(value)
    return fields


def _values(value) -> list[str]:
    """A form field's values as a form carries them: text, one or several."""
    return [str(each) for each in (value if isinstance(value, list) else [value])]


@pytest.mark.parametrize("esp", BATCH_ESPS)
def test_a_batch_payload_is_anymails_own_for_the_same_recipients(esp):
    path = f"anymail.backends.{esp}.EmailBackend"
    with override_settings(ANYMAIL=KEYS), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SendGrid's "support dropped" notice
        anymails = import_string(path)(fail_silently=False)
        ours = batch_backend(path)
        expected = request_of(anymails, message(esp, [r[0] for r in RECIPIENTS]))
        parsed = [anymail_batch.recipient(name, e) for _s, name, e in RECIPIENTS]
        sent = request_of(ours, message(esp, parsed))

    assert isinstance(ours, type(anymails))
    assert readable(sent) == readable(expected)
    assert sent["url"] == expected["url"]


def test_mailgun_batches_go_as_multipart_form_data():
    path = "anymail.backends.mailgun.EmailBackend"
    with override_settings(ANYMAIL=KEYS):
        backend = batch_backend(path)
        parsed = [anymail_batch.recipient(name, e) for _s, name, e in RECIPIENTS]
        params = request_of(backend, message("mailgun", parsed))

    prepared = requests.Request(**params).prepare()
    assert prepared.headers["Content-Type"].startswith("multipart/form-data")
    # As Mailgun reads the form: every recipient, and their variables.
    fields = form_fields(prepared.body)
    assert len(fields["to"]) == len(RECIPIENTS)
    variables = json.loads(fields["recipient-variables"][0])
    assert variables["ivan@example.org"]["name"] == "N4"


def test_mailgun_form_is_the_body_urllib3_writes_for_the_same_fields():
    fields = {
        "from": ["Vestnik <news@example.com>"],
        "to": ["Ann <ann@example.org>", '"Reader, Jr." <jr@example.org>'],
        "subject": "Новости %recipient.name%",
        "v:run_id": 7,
        'h:X-Odd"Name\r\n': "value",
        "recipient-variables": '{"ann@example.org": {"name": "Ann"}}',
    }
    expected = [
        (name, each) for name, value in fields.items() for each in _values(value)
    ]

    ours = anymail_batch.multipart_form(fields, "b0undary")

    assert ours == encode_multipart_formdata(expected, boundary="b0undary")[0]
    assert form_fields(ours)["to"] == fields["to"]


def test_addresses_not_made_by_recipient_are_still_parsed_by_anymail():
    path = "anymail.backends.sparkpost.EmailBackend"
    to = [r[0] for r in RECIPIENTS]
    with override_settings(ANYMAIL=KEYS):
        anymails = import_string(path)(fail_silently=False)
        ours = batch_backend(path)
        sent = request_of(ours, message("sparkpost", to))
        expected = request_of(anymails, message("sparkpost", to))

    assert readable(sent) == readable(expected)
    assert "Reader, Jr." in sent["data"]


@pytest.mark.parametrize(
    "full_name, email",
    [("Eve\r\nBcc: all@example.org", "eve@example.org"), ("Eve", "eve\n@example.org")],
)
def test_a_line_break_in_an_address_is_refused_as_anymail_refuses_it(full_name, email):
    # recipient() skips Address's own check for speed, save where the text could
    # break a header line: there it leaves the address to Address, which refuses it.
    with pytest.raises(ValueError, match="CR or LF"):
        anymail_batch.recipient(full_name, email)


def test_sendgrid_gives_each_recipient_an_id_of_its_own_as_anymail_does():
    path = "anymail.backends.sendgrid.EmailBackend"
    with override_settings(ANYMAIL=KEYS), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SendGrid's "support dropped" notice
        backend = batch_backend(path)
        parsed = [anymail_batch.recipient(name, e) for _s, name, e in RECIPIENTS]
        payload = backend.build_message_payload(
            message("sendgrid", parsed), backend.send_defaults
        )
        data = json.loads(payload.serialize_data())

    ids = [p["custom_args"]["anymail_id"] for p in data["personalizations"]]
    assert len(set(ids)) == len(RECIPIENTS)
    for each in ids:
        assert str(uuid.UUID(each)) == each
        assert uuid.UUID(each).version == 4
        assert uuid.UUID(each).variant == uuid.RFC_4122
    # Anymail's per-recipient status reads its message id from here.
    emails = [p["to"][0]["email"] for p in data["personalizations"]]
    assert payload.message_ids == dict(zip(emails, ids, strict=True))


def test_drawn_uuids_differ_from_one_draw_to_the_next():
    first, second = anymail_batch.uuid4_strings(500), anymail_batch.uuid4_strings(500)

    assert len(set(first) | set(second)) == 1000
