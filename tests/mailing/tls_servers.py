"""SMTP servers with TLS and AUTH on loopback: a CA made for the test, aiosmtpd with
STARTTLS or implicit TLS, and Postfix's smtp-sink run as a plain program behind a
loopback proxy that counts connections."""

import datetime
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .smtp_servers import Pipelining, free_port

SMTP_SINK = "/usr/sbin/smtp-sink"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _cert(subject, issuer, public_key, signing_key, *, ca: bool, sans=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), False)
    return builder.sign(signing_key, hashes.SHA256())


def make_ca(directory) -> tuple[str, str, str]:
    """(CA file, server certificate file, server key file) for 127.0.0.1."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(_name("Test CA"), _name("Test CA"), ca_key.public_key(), ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("localhost"),
    ]
    cert = _cert(
        _name("127.0.0.1"), ca.subject, key.public_key(), ca_key, ca=False, sans=sans
    )
    files = {
        "ca.pem": ca.public_bytes(serialization.Encoding.PEM),
        "server.pem": cert.public_bytes(serialization.Encoding.PEM),
        "server.key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    }
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return tuple(str(directory / name) for name in files)


def server_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@dataclass
class Counts:
    """What the server saw: AUTHs, connections (sessions) and EHLO names."""

    auths: int = 0
    sessions: set = field(default_factory=set)
    helo_names: set = field(default_factory=set)


class CountingHandler:
    """Wraps a RecordingHandler: counts sessions and EHLO names."""

    def __init__(self, handler, counts: Counts):
        self.handler, self.counts = handler, counts

    def __getattr__(self, name):
        return getattr(self.handler, name)

    def __dir__(self):
        return sorted({*dir(self.handler), "handle_EHLO"})

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.counts.sessions.add(session.peer)  # one per TCP connection
        self.counts.helo_names.add(hostname)
        inner = getattr(self.handler, "handle_EHLO", None)
        if inner is None:
            return responses
        return await inner(server, session, envelope, hostname, responses)


@contextmanager
def tls_smtp_server(handler, ca_files, *, implicit=False, pipelining=True):
    """aiosmtpd requiring AUTH (user "vestnik", password "secret") over TLS."""
    _ca, cert, key = ca_files
    counts = Counts()

    def authenticate(server, session, envelope, mechanism, auth_data):
        counts.auths += 1
        ok = auth_data.login == b"vestnik" and auth_data.password == b"secret"
        # handled=False: aiosmtpd then answers 535 itself (by default a refused
        # login is "handled", and no reply ever comes).
        return AuthResult(success=ok, handled=False)

    wrapped = CountingHandler(Pipelining(handler) if pipelining else handler, counts)
    context = server_context(cert, key)
    tls = {"ssl_context": context} if implicit else {"tls_context": context}
    controller = Controller(
        wrapped,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticate,
        auth_required=True,
        # aiosmtpd counts only STARTTLS as TLS; implicit TLS is TLS throughout.
        auth_require_tls=not implicit,
        require_starttls=not implicit,
        **tls,
    )
    controller.start()
    try:
        yield controller.port, counts
    finally:
        controller.stop()


class CountingProxy:
    """TCP on loopback to `target`, counting the connections it forwards."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


@contextmanager
def smtp_sink(*options: str):
    """Postfix's smtp-sink on a free port, behind a connection-counting proxy."""
    if not shutil.which(SMTP_SINK):
        import pytest

        pytest.skip("Postfix's smtp-sink is not installed")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed program, our own arguments
        [SMTP_SINK, "-u", "nobody", *options, f"127.0.0.1:{port}", "64"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, process)
        proxy = CountingProxy(port)
        yield proxy
        proxy.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(port: int, process) -> None:
    for _ in range(100):
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("smtp-sink did not start")
