"""Page throughput on the production settings: `make bench`.

Starts gunicorn on benchmarks.settings (production + a trivial "ok" view), on
PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (SQLite and local memory
otherwise), seeds the demo site, and measures with wrk, in one run:

  trivial        /bench/ok/: middleware and routing only
  cached home    / from the page cache
  cached post    a blog post from the page cache (its view still counted in Redis)
  uncached post  the same post for an anonymous visitor that the page cache misses:
                 each request first marks the post changed (a publish: entry,
                 fragments and kept route out of date; benchmarks.middleware), so it
                 is rendered from scratch, as the first visitor after a change or
                 after the minute that everything cached expires in
  signed-in post the same post for a signed-in reader (a valid session: never from
                 the page cache, its cached fragments and kept route in use)
  rendered post  the same render for a visitor with a messages cookie (no session)

Until 2026-12-01 "uncached post" was a stale session cookie on every request: no
browser sends one twice (the response deletes it), and it never missed the page
cache, it stepped around it to a render whose fragments and route were kept.

The machine is small and shared (2 cores, other processes, wrk itself): one long run
per page measured whatever else happened during it. So the pages are measured in
short interleaved rounds (the order rotates each round), each page's rate is divided
by the trivial rate of the same round, and the median ratio is reported with its
range. BENCH_ROUNDS, BENCH_ROUND_SECONDS, BENCH_CONNECTIONS, BENCH_WRK_THREADS,
BENCH_WORKERS and BENCH_THREADS change the shape of the run; BENCH_PORT fixes the
server's port.

Rates on 2 shared cores move with whatever else runs (0.26-2.9 in one week), so
the primary figure of a wrk run is the server's own CPU time per request: the
gunicorn processes' user+system time from /proc across each round, divided by the
requests wrk completed in it. Other processes delay the server but do not add to
its CPU time. The rate ratios are printed beside it.

`--cpu` measures the server's CPU time per request in-process instead (no HTTP
server, no load generator), and `--profile` profiles the same requests with
pyinstrument.
"""

import argparse
import io
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "12"))
ROUND_SECONDS = os.environ.get("BENCH_ROUND_SECONDS", "2")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "8")
# wrk shares the two cores with the server: one thread is enough to saturate it.
WRK_THREADS = os.environ.get("BENCH_WRK_THREADS", "1")
WORKERS = os.environ.get("BENCH_WORKERS", "2")
THREADS = os.environ.get("BENCH_THREADS", "4")
POST_PATH = "/blog/kak-zapustit-pervuyu-rassylku/"
# A browser's agent: with none the visit is a bot's, whose view is not counted at
# all, and the cached post would skip the counting it pays for a reader.
# benchmarks.middleware: a request that first marks its page changed.
CHANGED_HEADER = "X-Bench-Page-Changed"
CHANGED_ENVIRON = "HTTP_X_BENCH_PAGE_CHANGED"
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(tmp: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.settings",
        SECRET_KEY="bench-only-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        BASE_URL=f"http://127.0.0.1:{port}",
        SECURE_SSL_REDIRECT="False",
        STATIC_ROOT=str(tmp / "static"),
        MEDIA_ROOT=str(tmp / "media"),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    return env


def manage(env, *args):
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare(env) -> str:
    """The site seeded; the session key of a signed-in reader."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    manage(env, "collectstatic", "--noinput")
    return signed_in_session(env)


# A reader with an account and no admin role, signed in through the configured
# session engine; prints the session key.
SIGN_IN = """
from django.contrib.auth import get_user_model
from django.test import Client
reader, _ = get_user_model().objects.get_or_create(email="bench-reader@example.com")
client = Client()
client.force_login(reader)
print(client.cookies["sessionid"].value)
"""


def signed_in_session(env) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", SIGN_IN],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]


def start_gunicorn(env, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "site_config.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={WORKERS}",
            "--worker-class=gthread",
            f"--threads={THREADS}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/ok/", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def wrk_command(
    url: str,
    *headers: str,
    connections: str = CONNECTIONS,
    duration: str = f"{ROUND_SECONDS}s",
    threads: str = WRK_THREADS,
) -> list[str]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency"]
    command += ["-H", f"User-Agent: {BROWSER_AGENT}"]
    for header in headers:
        command += ["-H", header]
    return [*command, url]


@dataclass
class WrkResult:
    requests: int
    rate: float
    p99_ms: float
    non_2xx: int
    # connect, read, write, timeout (a response slower than wrk's --timeout)
    socket_errors: tuple[int, int, int, int]

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors)


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> WrkResult:
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s|m)\b", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p99_ms=float(p99.group(1)) * UNIT_MS[p99.group(2)],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=tuple(map(int, socket.groups())) if socket else (0, 0, 0, 0),
    )


def server_cpu_seconds(pid: int) -> float:
    """User+system CPU time of the gunicorn master `pid` and its workers, from
    /proc (Linux): what the server itself spent, however busy the machine was."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended meanwhile
            continue
        # After the name: state, ppid, ... utime and stime are fields 14 and 15.
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    rate: float
    p99_ms: float
    cpu_us: float  # server CPU time per request


def wrk(server_pid: int, url: str, *headers: str) -> Round:
    """One wrk run: its rate, p99 latency and the server's CPU per request."""
    before = server_cpu_seconds(server_pid)
    output = subprocess.run(
        wrk_command(url, *headers), capture_output=True, text=True, check=True
    ).stdout
    spent = server_cpu_seconds(server_pid) - before
    result = parse_wrk(output)
    if result.non_2xx:
        raise SystemExit(f"{url}: {result.non_2xx} non-2xx responses")
    return Round(result.rate, result.p99_ms, spent / result.requests * 1e6)


def warm(url: str, *headers: str) -> None:
    request = urllib.request.Request(
        url, headers=dict(header.split(": ", 1) for header in headers)
    )
    for _ in range(3):
        urllib.request.urlopen(request, timeout=30).read()


def targets(base: str, session: str) -> dict[str, tuple[str, ...]]:
    return {
        "trivial": (f"{base}/bench/ok/",),
        "cached home": (f"{base}/",),
        "cached post": (base + POST_PATH,),
        "uncached post": (base + POST_PATH, f"{CHANGED_HEADER}: 1"),
        "signed-in post": (base + POST_PATH, f"Cookie: sessionid={session}"),
        # The same render without a session to look up: what a visitor owed a
        # message (or a page cache miss) costs. For information, no goal.
        "rendered post": (base + POST_PATH, "Cookie: messages=bench-no-messages"),
    }


def measure(port: int, server_pid: int, session: str) -> dict[str, list[Round]]:
    """Per page, the Round of each round; the order rotates per round."""
    pages = targets(f"http://127.0.0.1:{port}", session)
    for url, *headers in pages.values():
        warm(url, *headers)
    names = list(pages)
    results: dict[str, list[Round]] = {name: [] for name in names}
    for number in range(ROUNDS):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(wrk(server_pid, *pages[name]))
        print(f"round {number + 1}/{ROUNDS} done", file=sys.stderr, flush=True)
    return results


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def report(results: dict[str, list[Round]]) -> None:
    print(
        f"\n{ROUNDS} rounds of {ROUND_SECONDS}s per page, wrk -t{WRK_THREADS} "
        f"-c{CONNECTIONS}, gunicorn {WORKERS}x{THREADS} gthread; {load()}"
    )
    print(
        f"{'':15}{'cpu us':>8}{'/ trivial':>11}{'range':>13}"
        f"{'req/s':>9}{'p99 ms':>8}{'/ trivial':>11}{'range':>13}"
    )
    trivial = results["trivial"]
    by_cpu, by_rate = {}, {}
    for name, rounds in results.items():
        # Per round, against the trivial view's round: the same minutes' machine.
        cpu = [t.cpu_us / r.cpu_us for r, t in zip(rounds, trivial, strict=True)]
        rate = [r.rate / t.rate for r, t in zip(rounds, trivial, strict=True)]
        by_cpu[name], by_rate[name] = statistics.median(cpu), statistics.median(rate)
        print(
            f"{name:15}{statistics.median(r.cpu_us for r in rounds):8.0f}"
            f"{by_cpu[name]:11.3f}{min(cpu):7.3f}-{max(cpu):.3f}"
            f"{statistics.median(r.rate for r in rounds):9.0f}"
            f"{statistics.median(r.p99_ms for r in rounds):8.1f}"
            f"{by_rate[name]:11.3f}{min(rate):7.3f}-{max(rate):.3f}"
        )
    for label, ratios in (("server CPU", by_cpu), ("wrk rate", by_rate)):
        cached = min(ratios["cached home"], ratios["cached post"])
        print(
            f"\n{label}: cached/trivial (median, worst of home, post) {cached:.2f} "
            f"(goal >= 0.9); uncached/trivial {ratios['uncached post']:.3f} "
            "(goal >= 0.1)"
        )


def wsgi_request(app, path: str, extra: dict[str, str] | None = None) -> bytes:
    """One request through the WSGI handler; `extra`: more environ (headers)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": BROWSER_AGENT,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        **(extra or {}),
    }
    return b"".join(app(environ, lambda status, headers, exc_info=None: None))


def in_process_cases(session: str) -> dict[str, tuple[str, dict, int]]:
    """{page: (path, extra environ, requests per batch)}, as targets() for wrk."""
    return {
        "trivial": ("/bench/ok/", {}, 300),
        "cached home": ("/", {}, 300),
        "cached post": (POST_PATH, {}, 300),
        "uncached post": (POST_PATH, {CHANGED_ENVIRON: "1"}, 10),
        "signed-in post": (POST_PATH, {"HTTP_COOKIE": f"sessionid={session}"}, 10),
        "rendered post": (POST_PATH, {"HTTP_COOKIE": "messages=bench-no-messages"}, 10),
    }


def count_queries(app, path: str, extra: dict) -> int:
    """Queries as executed (the handler resets connection.queries per request)."""
    from django.db import connection

    queries = []

    def count(execute, sql, *args):
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        wsgi_request(app, path, extra)
    return len(queries)


def wsgi_app(env):
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    return WSGIHandler()


def profile(env, session: str) -> None:
    """pyinstrument over in-process requests through the WSGI handler (as gunicorn
    calls it)."""
    app = wsgi_app(env)
    from pyinstrument import Profiler

    cases = in_process_cases(session)
    for label in ("trivial", "cached post", "uncached post", "signed-in post"):
        path, extra, count = cases[label]
        count *= 7
        for _ in range(3):
            wsgi_request(app, path, extra)
        queries = count_queries(app, path, extra)
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(count):
                wsgi_request(app, path, extra)
        print(f"\n===== {label}: {count} requests, {queries} queries each =====")
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def cpu(env, session: str) -> None:
    """Server CPU per request, in-process through the WSGI handler: interleaved
    batches, the least CPU time of each page (other processes only ever add to it),
    and its ratio to the trivial view's. No HTTP server, no load generator: what is
    left is this code's own cost, steady on a shared machine."""
    app = wsgi_app(env)
    cases = in_process_cases(session)
    best = dict.fromkeys(cases, float("inf"))
    for path, extra, _count in cases.values():
        wsgi_request(app, path, extra)
    for _ in range(ROUNDS):
        for name, (path, extra, count) in cases.items():
            started = time.process_time()
            for _ in range(count):
                wsgi_request(app, path, extra)
            best[name] = min(best[name], (time.process_time() - started) / count)
    print(f"\nserver CPU per request, least of {ROUNDS} batches; {load()}")
    for name, seconds in best.items():
        ratio = best["trivial"] / seconds
        print(f"{name:16}{seconds * 1e6:8.0f} us{ratio:11.3f} x trivial rate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cpu", action="store_true", help="server CPU only, no wrk")
    args = parser.parse_args()
    if not (args.profile or args.cpu) and not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="vestnik-bench-") as tmp:
        # BENCH_PORT: a port of one's own on a machine shared with others.
        port = int(os.environ.get("BENCH_PORT") or free_port())
        env = bench_env(Path(tmp), port)
        print(
            f"database: {env['DATABASE_URL'].split('://')[0]}, "
            f"cache: {'redis' if env.get('REDIS_URL') else 'local memory'}",
            flush=True,
        )
        session = prepare(env)
        if args.profile:
            profile(env, session)
            return
        if args.cpu:
            cpu(env, session)
            return
        server = start_gunicorn(env, port)
        try:
            print(load(), flush=True)
            report(measure(port, server.pid, session))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
