"""A minimal asyncio SMTP sink for the benchmarks (aiosmtpd tops out near 520 msg/s).

Run it on its own, so the benchmark shares no process with it:

    python benchmarks/smtp_sink.py --port 2525 &
    python benchmarks/sending.py --sink-port 2525

`SinkProtocol` accepts everything and skips the data; `RecordingSink` also counts
each delivered email by recipient address and by Message-ID, so a benchmark can
tell lost from duplicated sends.
"""

import argparse
import asyncio
import multiprocessing
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter


class SinkProtocol(asyncio.Protocol):
    """Just enough SMTP to accept mail: every command gets a 250.

    It advertises PIPELINING, as Postfix's smtp-sink does, and like Postfix it
    answers a pipelined group in one write once its input is used up (RFC 2920
    3.2): replies written one by one would wait out the client's delayed ACK
    (Nagle). Plain smtplib never pipelines: each of its commands is a group of one.
    """

    def connection_made(self, transport):
        self.transport, self.buffer, self.in_data = transport, b"", False
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, chunk):
        self.buffer += chunk
        replies = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    break
                self.message_received(self.buffer[:end])
                self.buffer, self.in_data = self.buffer[end + 5 :], False
                replies.append(b"250 2.0.0 Ok: queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                break
            line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            replies.append(self.command(line))
        self.transport.write(b"".join(replies))
        if replies[-1:] == [BYE]:
            self.transport.close()

    def command(self, line: bytes) -> bytes:
        """The reply to one command line."""
        verb = line[:4].upper()
        if verb == b"EHLO":
            return b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
        if verb == b"DATA":
            self.in_data = True
            # The terminator search needs the CRLF that ended the DATA line.
            self.buffer = b"\r\n" + self.buffer
            return b"354 go ahead\r\n"
        if verb == b"QUIT":
            return BYE
        return b"250 Ok\r\n"

    def message_received(self, data: bytes):
        """Called with each email's bytes once its final dot has arrived."""


BYE = b"221 bye\r\n"


def run_sink(sock: socket.socket, protocol=SinkProtocol):
    async def serve():
        server = await asyncio.get_running_loop().create_server(protocol, sock=sock)
        await server.serve_forever()

    asyncio.run(serve())


def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def start_sink_program() -> tuple[subprocess.Popen, int]:
    """The accept-all sink as a program of its own (a new interpreter, not a fork
    of the caller); returns it and its port."""
    sock = listening_socket()
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(  # noqa: S603 - this file, our own arguments
        [sys.executable, __file__, "--port", str(port)]
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError("the sink did not start")


def start_sink() -> tuple[multiprocessing.Process, int]:
    """The accept-all sink in its own process; returns it and its port."""
    sock = listening_socket()
    process = multiprocessing.Process(target=run_sink, args=(sock,), daemon=True)
    process.start()
    return process, sock.getsockname()[1]


MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^>]*)>", re.M | re.I)


class RecordingSink:
    """Counts what was delivered: a 250 after DATA, per RCPT and per Message-ID.

    Runs its event loop in a thread of the calling process, so the counters are
    read directly; a transaction that never reaches its final dot is not counted.
    """

    def __init__(self):
        self.by_recipient: Counter[str] = Counter()
        self.by_message_id: Counter[str] = Counter()
        sink = self

        class Protocol(SinkProtocol):
            def connection_made(self, transport):
                super().connection_made(transport)
                self.recipients = []

            def command(self, line):
                verb = line[:4].upper()
                if verb == b"RCPT":
                    address = line.split(b":", 1)[1].strip().strip(b"<>")
                    self.recipients.append(address.decode().lower())
                elif verb == b"MAIL":
                    self.recipients = []
                return super().command(line)

            def message_received(self, data):
                sink.by_recipient.update(self.recipients)
                found = MESSAGE_ID.search(data)
                sink.by_message_id[found.group(1).decode() if found else ""] += 1
                self.recipients = []

        sock = listening_socket()
        self.port = sock.getsockname()[1]
        self.thread = threading.Thread(
            target=run_sink, args=(sock, Protocol), daemon=True
        )
        self.thread.start()

    @property
    def delivered(self) -> int:
        return sum(self.by_message_id.values())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    server = socket.create_server(("127.0.0.1", port), backlog=128)
    run_sink(server)
