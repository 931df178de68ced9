"""Requests signed as each ESP signs its webhooks, with keys made for the test.

The hostile-input walk of the webhooks posts every payload with valid basic auth
and, where the ESP signs its webhooks, a valid signature: the payload then reaches
Anymail's parsing, which is what must never answer 500.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.test import override_settings
from django.urls import include, path

from mailing.webhooks import URL_PREFIX, webhook_urlpatterns

WEBHOOK_SECRET = "esp:hostile-walk-secret"
BASIC_AUTH = "Basic " + base64.b64encode(WEBHOOK_SECRET.encode()).decode()
# Nothing listens there: an inbound view that wants the ESP's API fails at once.
DEAD_API = "http://127.0.0.1:9/"


@contextmanager
def routes_as_configured(**overrides):
    """The site's URLconf as start-up builds it under these settings (the webhook
    routes are chosen once, when the URLconf is imported)."""
    from site_config import urls as site_urls

    with override_settings(**overrides):
        module = types.ModuleType(f"webhook_urls_{secrets.token_hex(4)}")
        site = [p for p in site_urls.urlpatterns if str(p.pattern) != URL_PREFIX]
        module.urlpatterns = [
            path(URL_PREFIX, include((webhook_urlpatterns(), "anymail"))),
            *site,
        ]
        sys.modules[module.__name__] = module
        try:
            with override_settings(ROOT_URLCONF=module.__name__):
                yield
        finally:
            del sys.modules[module.__name__]


def _public_key_body(public_key) -> str:
    """The key as ESPs show it: PEM without its armour lines, on one line."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@dataclass
class Keys:
    postal: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(65537, 2048)
    )
    sendgrid: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    resend: str = field(
        default_factory=lambda: (
            "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        )
    )
    hmac_secret: str = "hostile-walk-hmac"

    def anymail_settings(self) -> dict:
        """ANYMAIL for a site that routes every ESP with its signature checks on."""
        shared = self.hmac_secret
        return {
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False,
            "BREVO_API_KEY": "brevo-key",
            "BREVO_API_URL": DEAD_API,
            "SENDINBLUE_API_KEY": "sib-key",
            "SENDINBLUE_API_URL": DEAD_API,
            "MAILERSEND_SIGNING_SECRET": shared,
            "MAILERSEND_INBOUND_SECRET": shared,
            "MAILGUN_WEBHOOK_SIGNING_KEY": shared,
            "MAILTRAP_API_TOKEN": "mt-token",
            "MAILTRAP_API_URL": DEAD_API,
            "MAILTRAP_TRACKING_SECRET": shared,
            "MAILTRAP_INBOUND_SECRET": shared,
            "MANDRILL_WEBHOOK_KEY": shared,
            "POSTAL_WEBHOOK_KEY": _public_key_body(self.postal.public_key()),
            "RESEND_API_KEY": "re-key",
            "RESEND_API_URL": DEAD_API,
            "RESEND_SIGNING_SECRET": self.resend,
            "RESEND_INBOUND_SECRET": self.resend,
            "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": _public_key_body(
                self.sendgrid.public_key()
            ),
            "UNISENDER_GO_API_KEY": shared,
        }

    def headers(self, esp: str, path: str, body: bytes, form: dict | None) -> dict:
        """Signature headers for this ESP (as Django test client META keys)."""
        signer = getattr(self, f"_sign_{esp}", None)
        extra = signer(path, body, form) if signer else {}
        return {"HTTP_AUTHORIZATION": BASIC_AUTH, **extra}

    def _hmac_hex(self, body: bytes) -> str:
        return hmac.new(self.hmac_secret.encode(), body, hashlib.sha256).hexdigest()

    def _sign_mailersend(self, path, body, form):
        return {"HTTP_SIGNATURE": self._hmac_hex(body)}

    def _sign_mailtrap(self, path, body, form):
        return {"HTTP_MAILTRAP_SIGNATURE": self._hmac_hex(body)}

    def _sign_postal(self, path, body, form):
        signature = self.postal.sign(body, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - Postal's scheme
        return {"HTTP_X_POSTAL_SIGNATURE": base64.b64encode(signature).decode()}

    def _sign_sendgrid(self, path, body, form):
        if "tracking" not in path:
            return {}
        stamp = str(int(time.time()))
        signature = self.sendgrid.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": base64.b64encode(
                signature
            ).decode(),
            "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": stamp,
        }

    def _sign_resend(self, path, body, form):
        msg_id, stamp = "msg_" + secrets.token_hex(8), int(time.time())
        key = base64.b64decode(self.resend.removeprefix("whsec_"))
        signed = f"{msg_id}.{stamp}.".encode() + body
        digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
        return {
            "HTTP_SVIX_ID": msg_id,
            "HTTP_SVIX_TIMESTAMP": str(stamp),
            "HTTP_SVIX_SIGNATURE": "v1," + digest.decode(),
        }

    def _sign_mandrill(self, path, body, form):
        url = f"http://{WEBHOOK_SECRET}@testserver{path}"
        signed = url + "".join(key + (form or {})[key] for key in sorted(form or {}))
        digest = hmac.new(self.hmac_secret.encode(), signed.encode(), hashlib.sha1)
        return {"HTTP_X_MANDRILL_SIGNATURE": base64.b64encode(digest.digest()).decode()}


def mailgun_signed(payload: dict, secret: str) -> dict:
    """Mailgun puts its signature inside the JSON payload."""
    token, stamp = secrets.token_hex(16), str(int(time.time()))
    signature = hmac.new(
        secret.encode(), (stamp + token).encode(), hashlib.sha256
    ).hexdigest()
    return {
        **payload,
        "signature": {"token": token, "timestamp": stamp, "signature": signature},
    }


def unisender_go_signed(payload: dict, api_key: str) -> bytes:
    """Unisender Go: the MD5 of the body with the auth field set to the API key."""
    body = json.dumps({**payload, "auth": api_key}).encode()
    auth = hashlib.md5(body).hexdigest()  # noqa: S324 - Unisender Go's scheme
    return body.replace(api_key.encode(), auth.encode())


def sns_wrapped(message, message_id: str = "hostile-1") -> tuple[bytes, dict]:
    """Amazon SNS: the SES event as the Message string of a Notification."""
    text = message if isinstance(message, str) else json.dumps(message)
    envelope = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": "arn:aws:sns:eu-west-1:1:ses",
        "Message": text,
        "Timestamp": datetime.now(UTC).isoformat(),
    }
    headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
        "HTTP_X_AMZ_SNS_MESSAGE_ID": message_id,
    }
    return json.dumps(envelope).encode(), headers
