"""Page throughput on the production settings: `make bench`.

Starts gunicorn on benchmarks.settings (production + a trivial "ok" view), on
PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (SQLite and local memory
otherwise), seeds the demo site, and measures with wrk, in one run:

  trivial        /bench/ok/: middleware and routing only
  cached home    / from the page cache
  cached post    a blog post from the page cache (its view still counted in Redis)
  uncached post  the same post rendered for a visitor with a session cookie

`--profile` instead profiles uncached and cached requests in-process with pyinstrument.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "8")
POST_PATH = "/blog/kak-zapustit-pervuyu-rassylku/"


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


def prepare(env):
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    manage(env, "collectstatic", "--noinput")


def start_gunicorn(env, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "site_config.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
            "--worker-class=gthread",
            "--threads=4",
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
    duration: str = DURATION,
    threads: int = 2,
) -> list[str]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency"]
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


def wrk(url: str, *headers: str) -> tuple[float, str]:
    """Requests per second and the p99 latency."""
    output = subprocess.run(
        wrk_command(url, *headers), capture_output=True, text=True, check=True
    ).stdout
    result = parse_wrk(output)
    if result.non_2xx:
        raise SystemExit(f"{url}: {result.non_2xx} non-2xx responses")
    return result.rate, f"{result.p99_ms:.2f}ms"


def warm(url: str) -> None:
    for _ in range(3):
        urllib.request.urlopen(url, timeout=30).read()


def measure(port: int) -> dict[str, tuple[float, str]]:
    base = f"http://127.0.0.1:{port}"
    for path in ("/bench/ok/", "/", POST_PATH):
        warm(base + path)
    return {
        "trivial": wrk(f"{base}/bench/ok/"),
        "cached home": wrk(f"{base}/"),
        "cached post": wrk(base + POST_PATH),
        # A session cookie makes the page cache step aside: a full render.
        "uncached post": wrk(base + POST_PATH, "Cookie: sessionid=bench-no-session"),
    }


def report(results) -> None:
    trivial = results["trivial"][0]
    print(f"\n{'':16}{'req/s':>10}{'p99':>12}{'/ trivial':>12}")
    for name, (rate, p99) in results.items():
        print(f"{name:16}{rate:10.0f}{p99:>12}{rate / trivial:12.2f}")
    cached = min(results["cached home"][0], results["cached post"][0]) / trivial
    print(f"\ncached/trivial (worst of home, post): {cached:.2f}  (goal >= 0.8)")
    print(f"uncached/trivial: {results['uncached post'][0] / trivial:.2f}")


def profile(env) -> None:
    """pyinstrument over in-process requests: where the time goes, per path."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test import Client
    from pyinstrument import Profiler

    client = Client(HTTP_HOST="127.0.0.1")
    client.get(POST_PATH)
    for label, count, cookies in (("uncached", 200, True), ("cached", 2000, False)):
        if cookies:
            client.cookies["sessionid"] = "profile-no-session"
        else:
            client.cookies.clear()
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(count):
                client.get(POST_PATH)
        print(f"\n===== {label} blog post, {count} requests =====")
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not args.profile and not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="vestnik-bench-") as tmp:
        port = free_port()
        env = bench_env(Path(tmp), port)
        print(
            f"database: {env['DATABASE_URL'].split('://')[0]}, "
            f"cache: {'redis' if env.get('REDIS_URL') else 'local memory'}",
            flush=True,
        )
        prepare(env)
        if args.profile:
            profile(env)
            return
        server = start_gunicorn(env, port)
        try:
            report(measure(port))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
