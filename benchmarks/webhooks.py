"""ESP webhook events through a real server: `make bench`.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/webhooks.py

Serves the project with gunicorn as README's production command does (4 workers
of 4 threads each, --workers and --threads; --threads 1 is gunicorn's sync
worker; `--server granian` serves the same workers with granian, README's server for
the webhook ingress) on the production settings, with a Huey consumer beside it
(`run_huey -n`: the recorder of the event queue), and posts with wrk:

  one event a request   a Postmark delivery per POST (Postmark, and most ESPs)
  500 events a request  SparkPost's batches

each to attempts of their own (--events of them, matched by their attempt
tokens). Prints per shape the events/s the server accepted (wrk's rate: the ESP's
view) and the events/s recorded (until the last event's status is in the
database: the queue drained), with the machine's load average, and the CPU time
per event of the gunicorn workers and of the Huey recorder (from /proc: what a
busy machine inflates least). Every request must answer 200 and every attempt
end delivered.

`--checkout DIR` serves another checkout's code (e.g. main before a change) with
this script's data: the same shapes, before against after, in one run. Goal
(issue 17): over 2,000 events/s for both shapes on this 2-core machine.
"""

import argparse
import base64
import json
import os
import re
import subprocess  # nosec B404 - starts gunicorn, Huey and wrk from fixed argv
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pages import bench_env, free_port  # noqa: E402

SECRET = "bench:webhook-secret"
AUTH = "Basic " + base64.b64encode(SECRET.encode()).decode()
# Each request posts the next body: every event is new while the bodies last
# (each shape posts for as long as its --events last at well above its rate).
WRK_SCRIPT = """
local bodies, sent = {}, 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
end
function request()
  sent = sent + 1
  return wrk.format("POST", nil, nil, bodies[(sent - 1) % #bodies + 1])
end
"""


# The most events/s a quiet run of this machine accepted (README), one event a
# request and batches: a shape posts for as long as --events last at 1.5 times
# that, 8 s at the most. SparkPost's 500 a request at 42,797/s spent 150,000
# events in 3.5 s: at a fixed 8 s the bodies ran out.
FASTEST_ONE, FASTEST_BATCH, LONGEST_RUN = 3_300, 43_000, 8


def parse_args(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=150000)
    parser.add_argument(
        "--seconds",
        type=int,
        default=None,
        help="wrk's run per shape (default: as long as --events last, at most 8)",
    )
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--checkout", type=Path, default=ROOT)
    parser.add_argument("--server", choices=SERVERS, default="gunicorn")
    return parser.parse_args(argv)


def run_seconds(args, size: int) -> int:
    """How long wrk posts a shape of `size` events a request."""
    if args.seconds:
        return args.seconds
    fastest = FASTEST_ONE if size == 1 else FASTEST_BATCH
    return max(1, min(LONGEST_RUN, int(args.events / (1.5 * fastest))))


def main() -> None:
    args = parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("needs DATABASE_URL=postgres://... (and REDIS_URL)")
    port = args.port or free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = server_env(Path(tmp), port)
        os.environ.update(env)
        shapes = prepare(Path(tmp), args.events, args.batch)
        print(f"{args.server}, {_model(args)}, code of {args.checkout}")
        server, recorder = start(env, port, args.checkout, args)
        try:
            warm_up(port, args.connections)
            wait_for_an_empty_queue()
            for name, (bodies, run_id) in shapes.items():
                measure(name, bodies, run_id, port, args, (server, recorder))
        finally:
            for process in (server, recorder):
                process.terminate()
                process.wait(timeout=30)


def server_env(tmp: Path, port: int) -> dict[str, str]:
    env = bench_env(tmp, port)
    env.update(
        ANYMAIL_WEBHOOK_SECRET=SECRET,
        WEBHOOK_ESPS="postmark,sparkpost",
        EMAIL_URL="smtp://127.0.0.1:1",  # never used: nothing is sent
        EMAIL_ALLOW_PLAINTEXT="True",
        TASK_LOG_LEVEL="WARNING",
    )
    return env


def prepare(tmp: Path, events: int, batch: int) -> dict[str, tuple[Path, int]]:
    """Two runs of sent attempts; the request bodies for each shape, in files."""
    import django

    django.setup()
    from django.core.management import call_command

    from mailing.tokens import attempt_token

    call_command("migrate", verbosity=0)
    owner, clients = _clients(events)
    shapes = {}
    for name, size in (
        ("one event a request", 1),
        (f"{batch} events a request", batch),
    ):
        run_id, ids = _sent_run(owner, clients)
        bodies = [_postmark(pk, attempt_token(pk)) for pk in ids]
        if size > 1:
            events_ = [_sparkpost(pk, attempt_token(pk)) for pk in ids]
            bodies = [json.dumps(events_[i : i + size]) for i in range(0, events, size)]
        path = tmp / f"bodies-{size}.txt"
        path.write_text("\n".join(bodies) + "\n")
        shapes[name] = (path, run_id)
    return shapes


def _clients(count: int):
    from mailing.models import Client
    from tests.factories import make_user

    owner = make_user(email=f"bench-{uuid.uuid4().hex}@example.com")
    Client.objects.bulk_create(
        Client(owner=owner, email=f"c{n}@example.org", full_name=f"C {n}")
        for n in range(count)
    )
    return owner, list(Client.objects.filter(owner=owner))


def _sent_run(owner, clients) -> tuple[int, list[int]]:
    from mailing.models import Attempt, MailingRun
    from mailing.services import open_run
    from tests.factories import make_mailing

    mailing = make_mailing(owner, clients=clients)
    run = open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    run.attempts.update(status=Attempt.Status.SUCCESS)
    return run.pk, list(run.attempts.values_list("pk", flat=True))


def _postmark(pk: int, token: str) -> str:
    return json.dumps({
        "RecordType": "Delivery", "MessageID": f"pm-{pk}",
        "DeliveredAt": "2026-01-01T10:00:00Z", "Metadata": {"attempt": token},
    })  # fmt: skip


def _sparkpost(pk: int, token: str) -> dict:
    return {"msys": {"message_event": {
        "type": "delivery", "event_id": f"sp-{pk}", "timestamp": "1767261600",
        "rcpt_to": "r@example.com", "rcpt_meta": {"attempt": token},
    }}}  # fmt: skip


def _model(args) -> str:
    if args.server == "granian":
        return f"{args.workers} workers of {args.threads} blocking threads"
    if args.threads == 1:
        return f"{args.workers} sync workers"
    return f"{args.workers} gthread workers of {args.threads} threads"


def start(env, port: int, checkout: Path, args):
    # Where granian is installed beside the venv (PYTHONPATH) stays importable.
    paths = [str(checkout), *EXTRA_PATHS.split(os.pathsep)]
    env = dict(env, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    recorder = subprocess.Popen(  # nosec B603 - fixed argv
        [PYTHON, "manage.py", "run_huey", "-n", "-w", "2"], cwd=checkout, env=env
    )
    server = subprocess.Popen(  # nosec B603 - fixed argv
        SERVERS[args.server](port, args), cwd=checkout, env=env
    )
    for _ in range(150):
        try:
            url = f"http://127.0.0.1:{port}/bench/ok/"
            # A worker's first request imports the URLconf: seconds on a busy machine.
            urllib.request.urlopen(url, timeout=10)  # nosec B310 - our own server
            return server, recorder
        except OSError:
            if server.poll() is not None:  # e.g. granian not installed
                break
            time.sleep(0.2)
    for process in (server, recorder):
        process.terminate()  # granian's workers stop with it, not with a kill
        process.wait(timeout=30)
    raise SystemExit(f"{args.server} did not start")


def _gunicorn(port: int, args) -> list[str]:
    return [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "site_config.wsgi:application",
        f"--bind=127.0.0.1:{port}", f"--workers={args.workers}",
        f"--threads={args.threads}", "--log-level=warning",
    ]  # fmt: skip


def _granian(port: int, args) -> list[str]:
    return [
        PYTHON, "-m", "granian", "--interface=wsgi", "site_config.wsgi:application",
        "--host=127.0.0.1", f"--port={port}", f"--workers={args.workers}",
        f"--blocking-threads={args.threads}", "--log-level=warning",
    ]  # fmt: skip


PYTHON = str(ROOT / ".venv" / "bin" / "python")
EXTRA_PATHS = os.environ.get("PYTHONPATH", "")  # before bench_env replaces it
SERVERS = {"gunicorn": _gunicorn, "granian": _granian}


def warm_up(port: int, connections: int) -> None:
    """A worker's first requests cost more than the rest (connections opened;
    before site_config/wsgi.py imported the URLconf at start, as a --checkout of
    older code still does, seconds of CPU). wrk may not reach every worker here:
    py-spy found one importing the URLconf during the measured one-event shape."""
    subprocess.run(  # nosec B603 - fixed argv
        ["wrk", "-t1", f"-c{connections}", "-d3s",
         f"http://127.0.0.1:{port}/anymail/postmark/tracking/"],
        capture_output=True, check=True,
    )  # fmt: skip


def wait_for_an_empty_queue() -> None:
    """Events an earlier, interrupted run queued are recorded first: they are
    not this run's work. Recorded here: with periodic tasks off (`run_huey -n`)
    no sweeper wakes the recorder for them, and the entries an interrupted
    recorder held are claimed at once (nothing else is recording yet)."""
    from mailing import event_queue

    event_queue.drain(claim_idle_ms=0)
    if event_queue.pending_count():
        raise SystemExit("the event queue did not drain")


def measure(name: str, bodies: Path, run_id: int, port: int, args, processes) -> None:
    from mailing.models import Attempt

    server, recorder = processes
    workers = _children(server.pid)
    cpu = [_cpu_seconds(workers), _cpu_seconds([recorder.pid])]
    script = bodies.with_suffix(".lua")
    script.write_text(WRK_SCRIPT)
    size = 1 if name.startswith("one") else args.batch
    load = os.getloadavg()[0]
    started = time.perf_counter()
    output = subprocess.run(  # nosec B603 - fixed argv
        [
            "wrk", "-t1", f"-c{args.connections}", f"-d{run_seconds(args, size)}s",
            "-s", str(script),
            "-H", "Content-Type: application/json", "-H", f"Authorization: {AUTH}",
            f"http://127.0.0.1:{port}{_path(name)}", "--", str(bodies),
        ],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    accepted = time.perf_counter() - started
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    # wrk counts the answers it read; the requests still in flight at the end
    # (one per connection at most) are recorded too.
    events, most = requests * size, (requests + args.connections) * size
    if "Non-2xx" in output or most >= args.events:
        raise SystemExit(
            f"{name}: errors, or the bodies ran out (more --events or fewer "
            f"--seconds):\n{output}"
        )
    delivered = Attempt.objects.filter(run_id=run_id, status=Attempt.Status.DELIVERED)
    # Each count reads the run's delivered rows: asked every 50 ms it took a
    # share of the CPU the recorder was being measured with.
    while delivered.count() < events and time.perf_counter() - started < 600:
        time.sleep(0.25)
    recorded = time.perf_counter() - started
    if not events <= delivered.count() <= most:
        raise SystemExit(f"{name}: {delivered.count()} delivered of {events}")
    print(
        f"{name}: accepted {events / accepted:,.0f} events/s, "
        f"recorded {events / recorded:,.0f} events/s "
        f"(load average {load:.1f} -> {os.getloadavg()[0]:.1f})"
    )
    # CPU time the other processes on the machine cannot inflate much.
    web = (_cpu_seconds(workers) - cpu[0]) / events * 1000
    task = (_cpu_seconds([recorder.pid]) - cpu[1]) / events * 1000
    print(
        f"  CPU per event: {args.server} workers {web:.3f} ms, "
        f"Huey recorder {task:.3f} ms"
    )


def _children(pid: int) -> list[int]:
    return [
        int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    ]


def _cpu_seconds(pids: list[int]) -> float:
    """User and system time of these processes (and their threads), from /proc."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _path(name: str) -> str:
    esp = "postmark" if name.startswith("one") else "sparkpost"
    return f"/anymail/{esp}/tracking/"


if __name__ == "__main__":
    main()
