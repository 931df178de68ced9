"""Anymail backends for our batch sends, without Anymail's per-recipient rework.

The one place that leans on how Anymail builds a payload: BasePayload's tables of
message attributes with their converters, and each backend building its payload
as `PayloadClass(message, defaults, backend)`. tests/mailing/test_anymail_batch.py
fails when an upgrade changes either, so the fix starts and ends here. The
request, the ESP's answer and its per-recipient statuses stay Anymail's.

Profiled on a 1,000-recipient batch (benchmarks/sending.py --esp), Anymail spent
a third of its CPU parsing each `to` again with email.headerregistry, addresses
our input checks and sending.addresses.screen have validated already, and a
twelfth copying merge values we made as plain text. Mailgun's form was
url-encoded, byte by byte in Python (a fifth of the CPU): sent as
multipart/form-data, which Mailgun takes alike, it is written as it is, in one
join (urllib3 made a field object, headers and two writes per recipient: as much
CPU as the rest of the request).
"""

import os
from email.headerregistry import Address
from functools import lru_cache

from anymail.backends.mailgun import MailgunPayload
from anymail.backends.sendgrid import SendGridPayload
from anymail.utils import EmailAddress, parse_address_list
from urllib3.filepost import choose_boundary

# Our messages' values are plain str: Anymail's converters would only copy them.
_PLAIN = ("merge_data", "merge_metadata", "merge_headers")


class _KnownAddress(EmailAddress):
    """An address made from its parts by recipient(), formatted as they are.

    EmailAddress.format() makes a new Address of the same parts to print it (a
    ninth of a Mailgun batch's CPU): where no part needs encoding this one
    prints itself, which is that Address's own str().
    """

    def __init__(self, display_name: str, *, username: str, domain: str):
        # What Address.__init__ keeps of parts given apart, set as it sets them:
        # its only check, no CR or LF, recipient() has made (the two inits were
        # half of this object's cost, once per recipient).
        self._display_name, self._username, self._domain = (
            display_name,
            username,
            domain,
        )
        # Address works it out (quoting the local part if needed) on every read:
        # each recipient's is read several times per batch.
        self._addr_spec = Address.addr_spec.fget(self)

    @property
    def addr_spec(self) -> str:
        return self._addr_spec

    def format(self, *, use_rfc2047=False, idna_encode=None):
        name = self.display_name
        if (
            use_rfc2047 == "force"
            or (use_rfc2047 and not name.isascii())
            or (idna_encode and not self.domain.isascii())
        ):
            return super().format(use_rfc2047=use_rfc2047, idna_encode=idna_encode)
        return Address.__str__(self)


def recipient(full_name: str, email: str) -> EmailAddress:
    """The address as Anymail would parse it, made from its validated parts."""
    local, _at, domain = email.rpartition("@")
    if '"' in local or "\\" in local:  # a quoted local part: let Anymail unquote it
        return EmailAddress(full_name, addr_spec=email)
    if not (full_name + email).isprintable():  # CR, LF: let Address refuse them
        return EmailAddress(full_name, username=local, domain=domain)
    return _KnownAddress(full_name, username=local, domain=domain)


def _known_addresses(addresses, field=None):
    if all(isinstance(address, EmailAddress) for address in addresses):
        return list(addresses)
    return parse_address_list(addresses, field)


class _KnownValues:
    """A payload taking our `to` (EmailAddress objects, from recipient()) and
    merge values as they are."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.base_message_attrs = tuple(
            (attr, combiner, _known_addresses if attr == "to" else converter)
            for attr, combiner, converter in cls.base_message_attrs
        )
        cls.anymail_message_attrs = tuple(
            (attr, combiner, None if attr in _PLAIN else converter)
            for attr, combiner, converter in cls.anymail_message_attrs
        )


class _MultipartForm:
    """Mailgun's form as multipart/form-data, the body written here: requests
    would url-encode a form that has no file. With attachments (files), requests
    writes it as Anymail meant."""

    def serialize_data(self):
        data = super().serialize_data()
        if self.files:
            return data
        boundary = choose_boundary()
        self.headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        return multipart_form(data, boundary)


# How urllib3 (after the HTML standard) writes a form field's name.
_NAME_ESCAPES = str.maketrans({'"': "%22", "\r": "%0D", "\n": "%0A"})


def multipart_form(fields: dict, boundary: str) -> bytes:
    """`fields` ({name: value or [values]}) as urllib3's
    encode_multipart_formdata writes them, each value a part of its own."""
    parts = []
    for name, values in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="'
        head += name.translate(_NAME_ESCAPES) + '"\r\n\r\n'
        for value in values if isinstance(values, list | tuple) else [values]:
            parts.append(head)
            parts.append(value if isinstance(value, str) else str(value))
            parts.append("\r\n")
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode()


class _DrawnIds:
    """SendGrid's id for each personalization (Anymail's anymail_id, its
    message id per recipient), the randomness drawn once a batch: uuid.uuid4()
    reads the OS's random source and builds a UUID object per recipient, a fifth
    of the CPU of serialising a SendGrid batch."""

    def set_anymail_id(self):
        personalizations = self.data["personalizations"]
        for personalization, message_id in zip(
            personalizations, uuid4_strings(len(personalizations)), strict=True
        ):
            personalization.setdefault("custom_args", {})["anymail_id"] = message_id
            for recipient in (
                personalization["to"]
                + personalization.get("cc", [])
                + personalization.get("bcc", [])
            ):
                self.message_ids[recipient["email"]] = message_id


# A UUID's version 4 and RFC 4122 variant bits, set on its 7th and 9th bytes.
_VERSION_4 = bytes(byte & 0x0F | 0x40 for byte in range(256))
_VARIANT = bytes(byte & 0x3F | 0x80 for byte in range(256))


def uuid4_strings(count: int) -> list[str]:
    """`count` random version 4 UUIDs as str(uuid.uuid4()) writes them."""
    drawn = bytearray(os.urandom(16 * count))
    drawn[6::16] = drawn[6::16].translate(_VERSION_4)
    drawn[8::16] = drawn[8::16].translate(_VARIANT)
    digits = drawn.hex()
    return [
        f"{digits[at : at + 8]}-{digits[at + 8 : at + 12]}-"
        f"{digits[at + 12 : at + 16]}-{digits[at + 16 : at + 20]}-"
        f"{digits[at + 20 : at + 32]}"
        for at in range(0, 32 * count, 32)
    ]


@lru_cache(maxsize=8)
def batch_payload_class(payload_class: type) -> type:
    mixins = (_KnownValues,)
    if issubclass(payload_class, MailgunPayload):
        mixins = (_MultipartForm, _KnownValues)
    elif issubclass(payload_class, SendGridPayload):
        mixins = (_DrawnIds, _KnownValues)
    return type(payload_class.__name__, (*mixins, payload_class), {})


@lru_cache(maxsize=8)
def batch_backend_class(backend_class: type, payload_class: type) -> type:
    """`backend_class` building its payloads as batch_payload_class(payload_class)."""
    payload = batch_payload_class(payload_class)

    def build_message_payload(self, message, defaults):
        return payload(message, defaults, self)

    return type(
        backend_class.__name__,
        (backend_class,),
        {"build_message_payload": build_message_payload},
    )
