"""Local stand-ins for each ESP's send API: a threaded HTTP server on loopback that
answers the way the ESP's documentation shows, refusing addresses that start with
"reject" where the ESP reports recipients one by one.

Each stub reads the recipients out of the request as the ESP would, so the test
sees what one API call really carried.
"""

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus

JSON = "application/json"


def rejected(email: str) -> bool:
    return email.lower().startswith("reject")


def _id() -> str:
    return str(uuid.uuid4())


def _answer(status: int, body, content_type: str = JSON, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return status, {"Content-Type": content_type, **(headers or {})}, data


# --- batch ESPs: (recipients in the call, answer) ----------------------------------


def form_fields(body: bytes) -> dict[str, list[str]]:
    """A form's fields, url-encoded or multipart/form-data (Mailgun takes both)."""
    if not body.startswith(b"--"):
        return parse_qs(body.decode())
    fields = {}
    boundary = body.split(b"\r\n", 1)[0]
    for part in body.split(boundary)[1:-1]:
        headers, _blank, value = part[2:-2].partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', headers).group(1).decode()
        fields.setdefault(name, []).append(value.decode())
    return fields


def mailgun(body: bytes, _json):
    form = form_fields(body)
    emails = [_addr(to) for to in form["to"]]
    return emails, _answer(
        200, {"id": f"<{_id()}@stub>", "message": "Queued. Thank you."}
    )


def sendgrid(_body, data):
    emails = [p["to"][0]["email"] for p in data["personalizations"]]
    return emails, _answer(202, b"", "text/plain", {"X-Message-Id": _id()})


def sparkpost(_body, data):
    emails = [r["address"]["email"] for r in data["recipients"]]
    results = {
        "total_accepted_recipients": len(emails),
        "total_rejected_recipients": 0,
        "id": _id(),
    }
    return emails, _answer(200, {"results": results})


def brevo(_body, data):
    versions = data.get("messageVersions") or [{"to": data["to"]}]
    emails = [v["to"][0]["email"] for v in versions]
    return emails, _answer(
        201, {"messageIds": [f"<{_id()}@smtp-relay>" for _ in emails]}
    )


def mailjet(_body, data):
    emails = [m["To"][0]["Email"] for m in data["Messages"]]
    messages = []
    for email in emails:
        if rejected(email):
            error = {"ErrorCode": "mj-0013", "StatusCode": 400, "ErrorMessage": "bad"}
            messages.append({"Status": "error", "Errors": [error]})
        else:
            to = {
                "Email": email,
                "MessageUUID": _id(),
                "MessageID": 7000 + len(messages),
            }
            messages.append({"Status": "success", "To": [to]})
    status = 400 if any(rejected(e) for e in emails) else 200
    return emails, _answer(status, {"Messages": messages})


def unisender_go(_body, data):
    emails = [r["email"] for r in data["message"]["recipients"]]
    ok = [e for e in emails if not rejected(e)]
    failed = {e: "invalid" for e in emails if rejected(e)}
    answer = {
        "status": "success",
        "job_id": _id(),
        "emails": ok,
        "failed_emails": failed,
    }
    return emails, _answer(200, answer)


# --- one email per call ------------------------------------------------------------


def mandrill(_body, data):
    email = data["message"]["to"][0]["email"]
    if rejected(email):
        result = {"email": email, "status": "rejected", "reject_reason": "hard-bounce"}
    else:
        result = {"email": email, "status": "sent", "_id": _id()}
    return [email], _answer(200, [result])


def postmark(_body, data):
    email = re.search(r"[^<\s,]+@[^>\s,]+", data["To"]).group()
    if rejected(email):
        message = (
            "You tried to send to recipient(s) that have been marked as inactive.\n"
            f"Found inactive addresses: {email}.\nInactive recipients are ones that"
            " have generated a hard bounce or a spam complaint."
        )
        return [email], _answer(422, {"ErrorCode": 406, "Message": message})
    answer = {"To": data["To"], "MessageID": _id(), "ErrorCode": 0, "Message": "OK"}
    return [email], _answer(200, answer)


def _single(email_of, ok, refused):
    def stub(_body, data):
        email = email_of(data)
        return [email], (refused(email) if rejected(email) else ok(email))

    return stub


def _addr(value: str) -> str:
    return re.search(r"[^<\s,]+@[^>\s,]+", value).group()


resend = _single(
    lambda d: _addr(d["to"][0]),
    lambda e: _answer(200, {"id": _id()}),
    lambda e: _answer(
        422, {"statusCode": 422, "name": "validation_error", "message": "bad to"}
    ),
)
postal = _single(
    lambda d: _addr(d["to"][0]),
    lambda e: _answer(
        200,
        {
            "status": "success",
            "time": 0.01,
            "flags": {},
            "data": {"message_id": _id(), "messages": {e: {"id": 1, "token": "t"}}},
        },
    ),
    lambda e: _answer(
        200,
        {"status": "parameter-error", "data": {"code": "InvalidRecipient"}},
    ),
)
mailtrap = _single(
    lambda d: d["to"][0]["email"],
    lambda e: _answer(200, {"success": True, "message_ids": [_id()]}),
    lambda e: _answer(400, {"success": False, "errors": ["'to' address is invalid"]}),
)
mailersend = _single(
    lambda d: d["to"][0]["email"],
    lambda e: _answer(202, b"", "text/html", {"X-Message-Id": _id()}),
    lambda e: _answer(422, {"message": "The to.0.email must be a valid email."}),
)
scaleway = _single(
    lambda d: d["to"][0]["email"],
    lambda e: _answer(
        200,
        {
            "emails": [
                {"id": _id(), "message_id": _id(), "mail_rcpt": e, "status": "new"}
            ]
        },
    ),
    lambda e: _answer(400, {"message": "invalid argument(s)", "type": "invalid"}),
)


def amazon_ses(_body, data):
    """SES v2 SendEmail (boto3 through endpoint_url): raw MIME, base64 in JSON."""
    email = data["Destination"]["ToAddresses"][0]
    email = _addr(email)
    if rejected(email):
        error = {"message": "Email address is not verified.", "__type": "BadRequest"}
        return [email], _answer(400, error, headers={"x-amzn-ErrorType": "BadRequest"})
    return [email], _answer(200, {"MessageId": _id()})


def _readable(body: bytes, data) -> bytes:
    """What the test looks into: form fields decoded, SES's raw MIME decoded."""
    if data is None and body.startswith(b"--"):
        return body  # multipart: as it is
    if data is None:
        return unquote_plus(body.decode()).encode()
    raw = (
        data.get("Content", {}).get("Raw", {}).get("Data")
        if isinstance(data, dict)
        else None
    )
    return body + (base64.b64decode(raw) if raw else b"")


@dataclass
class Call:
    path: str
    body: bytes
    emails: list[str]


@dataclass
class StubESP:
    answer: callable
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The benchmark's stub counts calls only: decoding bodies would cost it CPU.
    keep_bodies: bool = True
    connections: int = 0  # TCP connections the client opened (kept alive)

    def handle(self, path: str, body: bytes) -> tuple:
        data = json.loads(body) if body[:1] in (b"{", b"[") else None
        emails, answer = self.answer(body, data)
        readable = _readable(body, data) if self.keep_bodies else b""
        with self.lock:
            self.calls.append(Call(path, readable, emails))
        return answer

    def counts(self) -> dict[str, int]:
        with self.lock:
            recipients = sum(len(call.emails) for call in self.calls)
            return {
                "calls": len(self.calls),
                "recipients": recipients,
                "connections": self.connections,
            }


def serve(stub: StubESP) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as the ESPs' APIs: a client that opens a connection per
        # call shows in `connections`. The answer's headers and body are two
        # writes: without TCP_NODELAY the second waits for the delayed ACK.
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def setup(self):
            super().setup()
            with stub.lock:
                stub.connections += 1

        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"] or 0))
            status, headers, data = stub.handle(self.path, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - the benchmark asks a stub program its counts
            data = json.dumps(stub.counts()).encode()
            self.send_response(200)
            self.send_header("Content-Type", JSON)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
