"""Our own open and click tracking: a pixel and click redirects in the HTML part.

Links are rewritten once per run: each becomes a TrackedLink row of the run, and
its redirect URL names that row and the recipient's attempt token. The redirect
goes only to the row's URL, and only for an attempt of the same run: a URL that
was not in the sent email cannot be asked for, so it is no open redirect. The
URL is kept exactly as written, its UTM parameters too.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from . import tokens
from .events import Happening, record_event
from .models import Attempt, Event, TrackedLink
from .rendering import TRACKING_SLOT

MARK = "TRACKING-MARK"
# Absolute http(s) links only; a link with a per-recipient placeholder
# ({{ email }}) differs per recipient and stays as it is.
_HREF = re.compile(r"""(<a\b[^>]*?\bhref=)(["'])(https?://[^"'{}]+)\2""", re.I)
_BODY_END = re.compile(r"</body\s*>", re.I)
PIXEL = (
    '<img src="{src}" width="1" height="1" alt="" '
    'style="display:block;width:1px;height:1px;border:0">'
)


def tracking_wanted(mailing) -> bool:
    """Tracking is on unless the mailing or its owner switched it off."""
    return mailing.track_engagement and mailing.owner.track_engagement


def _slot_url(name: str, *args) -> str:
    prefix, suffix = reverse(f"mailing:{name}", args=[MARK, *args]).split(MARK)
    return settings.BASE_URL + prefix + TRACKING_SLOT + suffix


def add_tracking(markup: str, run_id: int) -> str:
    """The HTML with click redirects and an open pixel, the token left as a slot."""
    urls = [html.unescape(match.group(3)) for match in _HREF.finditer(markup)]
    link_ids = _link_ids(run_id, urls)

    def redirect(match: re.Match) -> str:
        link_id = link_ids[html.unescape(match.group(3))]
        url = html.escape(_slot_url("click", link_id))
        return f"{match.group(1)}{match.group(2)}{url}{match.group(2)}"

    markup = _HREF.sub(redirect, markup)
    pixel = PIXEL.format(src=html.escape(_slot_url("open")))
    if _BODY_END.search(markup):
        return _BODY_END.sub(lambda end: pixel + end.group(0), markup, count=1)
    return markup + pixel


def _digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _link_ids(run_id: int, urls: list[str]) -> dict[str, int]:
    """url -> TrackedLink id for the run; every consumer of a run gets the same."""
    unique = {_digest(url): url for url in urls}
    TrackedLink.objects.bulk_create(
        [TrackedLink(run_id=run_id, url=u, url_digest=d) for d, u in unique.items()],
        ignore_conflicts=True,
    )
    rows = TrackedLink.objects.filter(run_id=run_id, url_digest__in=unique)
    return {unique[digest]: pk for pk, digest in rows.values_list("pk", "url_digest")}


def link_target(token: str, link_id: int) -> tuple[int, str] | None:
    """(attempt id, URL) for a click redirect, or None if it names no sent link."""
    attempt_id = tokens.read_attempt_token(token)
    if attempt_id is None:
        return None
    run_id = Attempt.objects.filter(pk=attempt_id).values_list("run_id", flat=True)
    url = (
        TrackedLink.objects.filter(pk=link_id, run_id__in=run_id)
        .values_list("url", flat=True)
        .first()
    )
    return None if url is None else (attempt_id, url)


def record_hit(
    attempt_id: int, kind: str, request, url: str = "", head_first: bool = False
) -> None:
    """An open of the pixel or a click through a redirect, as an event."""
    record_event(
        attempt_id,
        Happening(
            kind=kind,
            source="pixel" if kind == Event.Kind.OPENED else "redirect",
            at=timezone.now(),
            url=url,
            head_first=head_first,
            user_agent=request.headers.get("User-Agent", ""),
            ip=request.META.get("REMOTE_ADDR") or None,
            # Every fetch is an event of its own: nothing to deduplicate.
            extra_key=secrets.token_hex(8),
        ),
    )


def _head_key(attempt_id: int, link_id: int) -> str:
    return f"engagement:head:{attempt_id}:{link_id}"


def note_head(attempt_id: int, link_id: int) -> None:
    """A HEAD on a click link: gateways check a link before they follow it."""
    cache.set(_head_key(attempt_id, link_id), 1, timeout=300)


def head_came_first(attempt_id: int, link_id: int) -> bool:
    return cache.get(_head_key(attempt_id, link_id)) is not None
