"""Human or machine: every open and click gets a verdict and the reason.

Since Apple Mail Privacy Protection and link-scanning gateways, raw open and
click counts mislead: Apple's proxy fetches every pixel, gateways follow every
link seconds after delivery. The rules, first match wins:

- opens: Apple MPP (its proxy's user agent or address ranges, or the ESP says
  "proxy open"), then an image proxy or prefetch by user agent, then a known
  scanner's user agent, else human;
- clicks: a known scanner's user agent, a HEAD before the GET, a click within
  seconds of sending, every link of the email at once, an image proxy; else human.

Who is who is data (engagement_agents.json, settings.ENGAGEMENT_AGENTS_FILE).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from .models import Event

Verdict = Event.Verdict
DEFAULT_AGENTS = Path(__file__).with_name("engagement_agents.json")


@dataclass(frozen=True)
class Agents:
    mpp_agents: re.Pattern
    mpp_networks: tuple
    proxies: re.Pattern
    scanners: re.Pattern
    scanner_click: timedelta
    all_links: timedelta


def _any_of(patterns: list[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)", re.I)


@lru_cache(maxsize=4)
def _load(path: str) -> Agents:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    mpp = data["apple_mpp"]
    return Agents(
        mpp_agents=_any_of(mpp["user_agents"]),
        mpp_networks=tuple(ipaddress.ip_network(n) for n in mpp["networks"]),
        proxies=_any_of(data["proxies"]),
        scanners=_any_of(data["scanners"]),
        scanner_click=timedelta(seconds=data["scanner_click_seconds"]),
        all_links=timedelta(seconds=data["all_links_seconds"]),
    )


def agents() -> Agents:
    return _load(str(getattr(settings, "ENGAGEMENT_AGENTS_FILE", DEFAULT_AGENTS)))


@dataclass(frozen=True)
class Hit:
    """What is known about one open or click when it arrives."""

    kind: str  # Event.Kind.OPENED or CLICKED
    user_agent: str = ""
    ip: str | None = None
    at: datetime | None = None
    sent_at: datetime | None = None
    head_first: bool = False
    # Distinct links of this email clicked within `all_links` of this click
    # (this one included), and how many links the email has.
    links_clicked_together: int = 1
    links_in_email: int = 0
    esp_says_proxy: bool = False


def _in_mpp_ranges(ip: str | None, networks) -> bool:
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


def classify(hit: Hit) -> tuple[str, str]:
    """(verdict, reason) for an open or a click."""
    known = agents()
    ua = hit.user_agent or ""
    if hit.kind == Event.Kind.OPENED:
        return _classify_open(hit, ua, known)
    return _classify_click(hit, ua, known)


def _classify_open(hit: Hit, ua: str, known: Agents) -> tuple[str, str]:
    if _in_mpp_ranges(hit.ip, known.mpp_networks):
        return Verdict.APPLE_MPP, f"address {hit.ip} in Apple's proxy ranges"
    if ua and known.mpp_agents.search(ua):
        return Verdict.APPLE_MPP, f"Apple's proxy user agent ({ua[:60]})"
    if hit.esp_says_proxy:
        return Verdict.APPLE_MPP, "the ESP reports a proxy open"
    if ua and known.proxies.search(ua):
        return Verdict.PROXY, f"image proxy or prefetch user agent ({ua[:60]})"
    if ua and known.scanners.search(ua):
        return Verdict.SCANNER, f"scanner user agent ({ua[:60]})"
    return Verdict.HUMAN, "no machine sign"


def _classify_click(hit: Hit, ua: str, known: Agents) -> tuple[str, str]:
    if ua and known.scanners.search(ua):
        return Verdict.SCANNER, f"scanner user agent ({ua[:60]})"
    if hit.head_first:
        return Verdict.SCANNER, "a HEAD request before the GET"
    if hit.sent_at and hit.at and hit.at - hit.sent_at < known.scanner_click:
        seconds = (hit.at - hit.sent_at).total_seconds()
        return Verdict.SCANNER, f"clicked {seconds:.0f} s after sending"
    if hit.links_in_email > 1 and hit.links_clicked_together >= hit.links_in_email:
        return Verdict.SCANNER, f"all {hit.links_in_email} links clicked at once"
    if ua and known.proxies.search(ua):
        return Verdict.PROXY, f"proxy or prefetch user agent ({ua[:60]})"
    return Verdict.HUMAN, "no machine sign"
