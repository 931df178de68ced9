"""Open redirects through `next=`, and account enumeration by answer or by timing."""

from __future__ import annotations

import statistics
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
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


def _signup(client, email: str, n: int):
    return client.post(
        "/accounts/signup/",
        {
            "email": email,
            "password1": "Zx9-long-pass-word",
            "password2": "Zx9-long-pass-word",
        },
        REMOTE_ADDR=f"10.0.{n // 250}.{n % 250 + 1}",
    )


def _reset(client, email: str, n: int):
    return client.post(
        "/accounts/password-reset/",
        {"email": email},
        REMOTE_ADDR=f"10.1.{n // 250}.{n % 250 + 1}",
    )


def answers_and_timing(client, flow, name: str, tries: int) -> tuple[set, float]:
    """Interleaved known / unknown addresses: the answers seen and the median gap."""
    known = make_user(email=f"known-{name}@example.com")
    answers, gaps = set(), []
    for n in range(tries):
        timings = {}
        pair = [("known", known.email), ("unknown", f"nobody-{name}-{n}@example.com")]
        # Alternate which goes first, so warm caches do not favour one side.
        for kind, email in pair if n % 2 else pair[::-1]:
            started = time.perf_counter()
            response = flow(client, email, n)
            timings[kind] = time.perf_counter() - started
            answers.add((response.status_code, response.get("Location")))
        gaps.append(timings["known"] - timings["unknown"])
    return answers, statistics.median(gaps) * 1000


def check_no_enumeration(client, tries: int) -> None:
    for name, flow in (("sign-up", _signup), ("reset", _reset)):
        mail.outbox.clear()
        answers, gap_ms = answers_and_timing(client, flow, name, tries)
        print(
            f"{name}: {tries} known + {tries} unknown addresses, answers {answers}, "
            f"median time difference {gap_ms:+.1f} ms"
        )
        assert len(answers) == 1, answers
        assert abs(gap_ms) < 10


@override_settings(PASSWORD_HASHERS=["tests.security.test_accounts_abuse.TimingHasher"])
def test_signup_and_reset_do_not_tell_known_from_unknown_addresses(client):
    check_no_enumeration(client, tries=30)


@pytest.mark.stress
@override_settings(PASSWORD_HASHERS=["tests.security.test_accounts_abuse.TimingHasher"])
def test_no_enumeration_over_200_tries(client):
    check_no_enumeration(client, tries=200)
