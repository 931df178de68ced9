"""A stub ESP send API for the benchmarks, as a program of its own.

    python benchmarks/esp_stub.py --esp mailgun --latency 0.03

Answers like the ESP's documentation shows (tests/mailing/esp_stubs.py) after
`--latency` seconds per call, and prints its port on the first line. GET on any
path answers {"calls": n, "recipients": m}. Its own process, like the SMTP sink:
reading a 1,000-recipient request costs the stub CPU, which must not be counted
against the pipeline under the same interpreter lock.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_stub_program(esp: str, latency: float) -> tuple[subprocess.Popen, int]:
    """The stub for `esp` as a program of its own; returns it and its port."""
    process = subprocess.Popen(  # noqa: S603 - this file, our own arguments
        [sys.executable, __file__, "--esp", esp, "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    return process, int(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--esp", required=True)
    parser.add_argument("--latency", type=float, default=0.03)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.mailing import esp_stubs

    answer = getattr(esp_stubs, args.esp)

    def slow(body, data):
        time.sleep(args.latency)
        return answer(body, data)

    server = esp_stubs.serve(esp_stubs.StubESP(slow, keep_bodies=False))
    print(server.server_port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
