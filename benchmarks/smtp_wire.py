"""CPU per email of the SMTP wire alone: pipelined writes and reading the replies.

    python benchmarks/smtp_wire.py      # 10,000 emails, the run's own bytes

The pipeline's emails are built once (benchmarks/sending.py's mailing, before the
clock), then sent with sending.pipelining over the backend's Connection to the
sink (benchmarks/smtp_sink.py, a program of its own) in groups of 200, as a run
sends them. Printed: this process's CPU per email, the best of three rounds, and
the rate. No database and no building inside the clock: this is the part of the
consumer's CPU that sending.replies and the one-copy writes are about. Compare
two trees by running it in each, one after the other; quote the ratio.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import sending  # noqa: E402 - the project root on the path first
from benchmarks.smtp_sink import start_sink_program  # noqa: E402

COUNT = 10_000
GROUP = 200
ROUNDS = 3


def built_emails(port: int) -> list[tuple[str, str, bytes]]:
    sending.setup_django(port)
    sending.drop_bench_data()
    mailing = sending.make_mailing(COUNT)
    try:
        sending.pipeline(mailing, concurrency=1)
        return sending.prepared_emails(mailing)
    finally:
        sending.drop_bench_data()


def wire_round(port: int, batch: list) -> tuple[float, float]:
    """(CPU seconds, wall seconds) to send the batch on one connection."""
    from mailing.sending.pipelining import send_pipelined
    from mailing.sending.smtp import Connection

    smtp = Connection(sending.SINK_HOST, port)
    smtp.ehlo()
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(batch), GROUP):
        results = send_pipelined(smtp, batch[start : start + GROUP])
        assert all(isinstance(result, str) for result in results), results[:3]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    smtp.quit()
    return cpu, wall


def main() -> None:
    sink, port = start_sink_program()
    try:
        emails = built_emails(port)
        cpu, wall = min(wire_round(port, emails) for _round in range(ROUNDS))
    finally:
        sink.terminate()
    print(
        f"SMTP wire, {len(emails):,} emails of {len(emails[0][2]):,} bytes, "
        f"groups of {GROUP}: CPU {cpu * 1e6 / len(emails):.1f} us/email, "
        f"{len(emails) / wall:.0f} msg/s (load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
