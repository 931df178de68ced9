"""Open redirects through `next=`, and account enumeration by answer or by timing."""

from __future__ import annotations

import random
import statistics
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher, PBKDF2PasswordHasher
from django.core import mail
from django.test import override_settings

from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.django_db]

NEXT_CORPUS = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https:evil.example",
    "http:/evil.example",
    "//evil.example@testserver/",
    "https://testserver.evil.example/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example/",
    "\t//evil.example/",
    "/%2F/evil.example/",
    "/%5Cevil.example/",
    "//%65vil.example/",
    "https://evil.example%23@testserver/",
    "\u3002evil.example",
]


def on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (
        parts.scheme in ("", "http")
        and parts.netloc in ("", "testserver")
        and not location.lstrip().startswith(("//", "/\\", "\\"))
    )


@pytest.mark.parametrize("door", ["/accounts/login/", "/admin/login/"])
def test_next_never_leads_off_site(client, door):
    user = make_user(email="next@example.com")
    checked = 0
    for target in NEXT_CORPUS:
        client.logout()
        # The admin door forwards to the accounts login with `next` kept.
        page = client.get(door, {"next": target})
        if page.status_code == 302:
            assert on_site(page["Location"]), (door, target, page["Location"])
            page = client.get(page["Location"])
        response = client.post(
            "/accounts/login/?" + f"next={target}",
            {"username": user.email, "password": PASSWORD, "next": target},
        )
        assert response.status_code == 302, (target, response.status_code)
        assert on_site(response["Location"]), (door, target, response["Location"])
        checked += 1
    print(f"next= corpus through {door}: {checked} values, all kept on site")


class TimingHasher(PBKDF2PasswordHasher):
    """PBKDF2 as in production, fewer rounds: a skipped hash shows as ~20 ms."""

    iterations = 30_000


class CountingHasher(MD5PasswordHasher):
    """Counts the hashes computed: the work a request does, without a clock."""

    computed = 0

    def encode(self, password, salt):
        CountingHasher.computed += 1
        return super().encode(password, salt)


def _signup(client, email: str, n: int):
    return client.post(
        "/accounts/signup/",
        {"email": email},
        REMOTE_ADDR=f"10.0.{n // 250}.{n % 250 + 1}",
    )


def _reset(client, email: str, n: int):
    return client.post(
        "/accounts/password-reset/",
        {"email": email},
        REMOTE_ADDR=f"10.1.{n // 250}.{n % 250 + 1}",
    )


def _login(client, email: str, n: int):
    return client.post(
        "/accounts/login/",
        {"username": email, "password": "wrong-password"},
        REMOTE_ADDR=f"10.2.{n // 250}.{n % 250 + 1}",
    )


FLOWS = (("sign-up", _signup), ("reset", _reset), ("login", _login))


def interleaved(flow, name: str, tries: int):
    """(kind, request) pairs for known and unknown addresses, alternating which goes
    first so that warm caches favour neither; `request()` sends one."""
    for n in range(tries):
        # A known address per pair: five wrong logins would lock one account.
        known = make_user(email=f"known-{name}-{n}@example.com")
        pair = [("known", known.email), ("unknown", f"nobody-{name}-{n}@example.com")]
        for kind, email in pair if n % 2 else pair[::-1]:
            yield n, kind, lambda client, email=email, n=n: flow(client, email, n)


def answer(response) -> tuple:
    if response.status_code == 200:  # a form shown again: its error, not the echo
        return 200, tuple(str(e) for e in response.context["form"].non_field_errors())
    return response.status_code, response.get("Location")


def check_no_enumeration(client, tries: int) -> None:
    """`make test`: the same answers and the same hashing work for known and unknown
    addresses. Deterministic: times are for `make stress` (a loaded machine made a
    10 ms bound fail here)."""
    with override_settings(
        PASSWORD_HASHERS=["tests.security.test_accounts_abuse.CountingHasher"]
    ):
        for name, flow in FLOWS:
            answers, work = set(), {"known": set(), "unknown": set()}
            for _, kind, send in interleaved(flow, name, tries):
                before = CountingHasher.computed
                answers.add(answer(send(client)))
                work[kind].add(CountingHasher.computed - before)
            print(
                f"{name}: {tries} known + {tries} unknown, answers {answers}, "
                f"hashes per request {work}"
            )
            assert len(answers) == 1, answers
            assert work["known"] == work["unknown"], work


def median_gap_ms(client, flow, name: str, tries: int) -> tuple[set, float]:
    answers, gaps, timings = set(), [], {}
    for n, kind, send in interleaved(flow, name, tries):
        started = time.perf_counter()
        answers.add(answer(send(client)))
        timings[kind, n] = time.perf_counter() - started
    gaps = [timings["known", n] - timings["unknown", n] for n in range(tries)]
    return answers, statistics.median(gaps) * 1000


def test_signup_reset_and_login_answer_known_and_unknown_addresses_alike(client):
    check_no_enumeration(client, tries=10)


@pytest.fixture
def enqueue_only():
    """As in production: the web process only hands account emails to the queue
    (the suite's immediate Huey would build and send them inside the request)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False
    yield
    HUEY.flush()
    HUEY.immediate = True


@pytest.mark.stress
@override_settings(PASSWORD_HASHERS=["tests.security.test_accounts_abuse.TimingHasher"])
def test_no_enumeration_by_timing_over_200_tries(client, enqueue_only):
    """The median of 200 paired differences (known minus unknown, interleaved): one
    skipped PBKDF2 hash would show as ~20 ms, while a busy machine's noise spreads
    both sides alike and the median of pairs shrugs it off."""
    for name, flow in FLOWS:
        mail.outbox.clear()
        answers, gap_ms = median_gap_ms(client, flow, name, tries=200)
        print(
            f"{name}: 200 known + 200 unknown addresses, answers {answers}, "
            f"median time difference {gap_ms:+.1f} ms (bound 10 ms)"
        )
        assert len(answers) == 1, answers
        assert abs(gap_ms) < 10


def test_finding7_a_busy_machine_cannot_fail_the_suites_enumeration_check(
    client, monkeypatch
):
    """On a loaded machine the outside run measured -10.2 ms against a 10 ms bound.
    `make test`'s check must not read the clock at all: here the clock is as noisy
    as a loaded machine (seeded, so the test itself is deterministic)."""
    noise, real = random.Random(11), time.perf_counter
    monkeypatch.setattr(time, "perf_counter", lambda: real() + noise.uniform(0, 0.5))

    check_no_enumeration(client, tries=10)
