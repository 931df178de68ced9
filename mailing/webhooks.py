"""ESP webhook routes: Anymail's tracking and inbound views, mounted fail-closed.

- Only the ESPs in settings.WEBHOOK_ESPS are routed (by default the ESP of
  EMAIL_BACKEND; none over SMTP), and none at all without ANYMAIL_WEBHOOK_SECRET:
  HTTP basic auth is the one check every ESP's route has, and an unauthenticated
  route let anyone forge a bounce. production.py refuses to start when routes are
  wanted without the secret.
- A route whose view Anymail cannot build (its ESP's keys missing, an extra not
  installed) is not routed: Anymail builds the view on every request, so routing
  it would answer HTTP 500 to anyone. The system check below says which ESP and
  why, lists every live route at each start (runserver, migrate, check --deploy),
  and warns about a live route whose ESP can sign its webhooks but has no key.
- Each view is Anymail's, subclassed to answer input it cannot read (empty, not
  JSON, an array where an object belongs, garbage multipart) with 400 and the
  reason instead of Anymail's uncaught exception (a 500, which ESPs retry for
  days). What goes wrong after parsing (the receivers, the database) is not
  touched: a 5xx there is the ESP's cue to retry.
- Each view instance is built once (per settings) and copied for each request:
  Anymail's views read their settings and walk their classes in __init__, and
  wrap dispatch in csrf_exempt on every call; that was about a tenth of a
  one-event webhook request's CPU (issue 17).
"""

from __future__ import annotations

import errno
import json
import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from email.errors import MessageError

import requests
from django.conf import settings
from django.core import checks
from django.core.signals import setting_changed
from django.http import HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern
from django.utils.regex_helper import normalize
from django.views.generic import View

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("django.security.AnymailWebhookValidationFailure")

ALL = "all"
URL_PREFIX = "anymail/"  # where site_config/urls.py mounts the routes
NO_SECRET = "ANYMAIL_WEBHOOK_SECRET is not set"
# Settings with which an ESP signs its webhooks, by route: without them only the
# basic auth protects the route (Mailgun falls back to its API key, which is not
# the key Mailgun signs with: every event would be refused).
SIGNING_KEYS = {
    "mailgun_tracking_webhook": "MAILGUN_WEBHOOK_SIGNING_KEY",
    "mailgun_inbound_webhook": "MAILGUN_WEBHOOK_SIGNING_KEY",
    "mailersend_tracking_webhook": "MAILERSEND_SIGNING_SECRET",
    "mailersend_inbound_webhook": "MAILERSEND_INBOUND_SECRET",
    "mailtrap_tracking_webhook": "MAILTRAP_TRACKING_SECRET",
    "mailtrap_inbound_webhook": "MAILTRAP_INBOUND_SECRET",
    "resend_tracking_webhook": "RESEND_SIGNING_SECRET",
    "resend_inbound_webhook": "RESEND_INBOUND_SECRET",
    "sendgrid_tracking_webhook": "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY",
}
# Over an SMTP relay these ESPs report their own message id, which Vestnik never
# learns: their tracking events cannot be matched to an attempt.
SMTP_BLIND_TRACKING = {"amazon_ses", "postmark", "mailjet", "sparkpost"}


# --- Which routes are live ---------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    name: str  # Anymail's route name, e.g. "mailgun_tracking_webhook"
    reason: str


def route_esp(pattern: URLPattern) -> str:
    """The ESP a route belongs to: the first part of its path ("amazon_ses")."""
    return str(pattern.pattern).lstrip("^").split("/")[0]


def wanted(esp: str) -> bool:
    names = set(settings.WEBHOOK_ESPS)
    return ALL in names or esp in names


def build_routes() -> tuple[list[URLPattern], list[Refused]]:
    """(the routes to mount, the wanted routes that cannot be mounted and why)."""
    from anymail import urls as anymail_urls

    candidates = [p for p in anymail_urls.urlpatterns if wanted(route_esp(p))]
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return [], [Refused(p.name, NO_SECRET) for p in candidates]
    mounted, refused = [], []
    for pattern in candidates:
        reason = _unbuildable(pattern)
        if reason:
            refused.append(Refused(pattern.name, reason))
        else:
            mounted.append(_guarded(pattern))
    return mounted, refused


def webhook_urlpatterns() -> list[URLPattern]:
    return build_routes()[0]


def _unbuildable(pattern: URLPattern) -> str:
    """Why Anymail cannot build this route's view; empty when it can."""
    from anymail.exceptions import AnymailConfigurationError

    view = pattern.callback
    try:
        with warnings.catch_warnings():
            # Anymail's insecure-webhook and SendGrid-support warnings: the check
            # below says what matters here.
            warnings.simplefilter("ignore")
            instance = view.view_class(**view.view_initkwargs)
    except AnymailConfigurationError as error:  # AnymailImproperlyInstalled too
        return str(error).splitlines()[0]
    # Mandrill defers its missing-key error to each request.
    if getattr(instance, "webhook_key", True) is None:
        return "MANDRILL_WEBHOOK_KEY is not set"
    return ""


def _guarded(pattern: URLPattern) -> URLPattern:
    view = pattern.callback
    guarded_class = type(
        view.view_class.__name__, (AnswersUnreadableInputWith400, view.view_class), {}
    )
    return URLPattern(
        pattern.pattern,
        view_of(guarded_class, view.view_initkwargs, marks_of(view)),
        pattern.default_args,
        pattern.name,
    )


# --- One view instance per route, copied per request ------------------------------

_PROTOTYPES: dict = {}  # view class -> the instance each request copies


def view_of(view_class, initkwargs: dict, marks: dict):
    """What View.as_view() returns, but the instance Django's would build on each
    request is built once and each request gets a shallow copy: every attribute
    an Anymail view's __init__ sets is configuration, read-only afterwards."""

    def view(request, *args, **kwargs):
        return _serve(view_class, initkwargs, request, *args, **kwargs)

    view.__name__ = view.__qualname__ = view_class.__name__
    view.__module__, view.__doc__ = view_class.__module__, view_class.__doc__
    view.__dict__.update(marks, view_class=view_class, view_initkwargs=initkwargs)
    return view


def marks_of(view) -> dict:
    """The marks Anymail's decorators put on its view function (csrf_exempt,
    login_not_required), which Django's middlewares read from the callback."""
    return {k: v for k, v in vars(view).items() if k not in VIEW_ATTRIBUTES}


VIEW_ATTRIBUTES = {"view_class", "view_initkwargs", "__wrapped__"}


def _serve(view_class, initkwargs, request, *args, **kwargs):
    prototype = _PROTOTYPES.get(view_class)
    if prototype is None:
        prototype = _PROTOTYPES.setdefault(view_class, view_class(**initkwargs))
    self = view_class.__new__(view_class)
    self.__dict__.update(prototype.__dict__)
    self.setup(request, *args, **kwargs)
    return self.dispatch(request, *args, **kwargs)


def _forget_views(**kwargs) -> None:
    _PROTOTYPES.clear()  # tests that change ANYMAIL settings get fresh instances


setting_changed.connect(_forget_views)


# --- 400 with a reason, never 500 --------------------------------------------------


class UnreadablePayload(Exception):
    """The request cannot be what this ESP sends; the message says why."""


class UpstreamFailure(Exception):
    """Reading the event needed the ESP's API (an inbound message's content), which
    failed: a 502, so the ESP delivers the event again later."""


class AnswersUnreadableInputWith400:
    """Mixed in before an Anymail webhook view (see _guarded)."""

    def dispatch(self, request, *args, **kwargs):
        # Anymail's dispatch only applies csrf_exempt and login_not_required, anew
        # on each call; the view function carries their marks (view_of).
        return View.dispatch(self, request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        from anymail.exceptions import AnymailWebhookValidationFailure

        from .signals import one_batch_per_request

        where = f"{self.esp_name} {request.path}"
        try:
            # One transaction for all the events of the request (mailing.signals).
            with one_batch_per_request():
                return super().post(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as error:
            security_logger.warning("webhook refused at %s: %s", where, error)
            return _plain(HttpResponseBadRequest, f"Refused: {error}")
        except UnreadablePayload as error:
            logger.warning("unreadable webhook payload at %s: %s", where, error)
            return _plain(HttpResponseBadRequest, f"Unreadable payload: {error}")
        except UpstreamFailure as error:
            logger.warning("webhook at %s needed the ESP's API: %s", where, error)
            return _plain(BadGateway, f"The ESP's API failed: {error}")

    def run_validators(self, request):
        with _classified():
            super().run_validators(request)

    def parse_events(self, request):
        with _classified():
            # Some views yield their events: read them all while errors are ours.
            return list(super().parse_events(request))


class BadGateway(HttpResponse):
    status_code = 502


def _plain(response_class, text: str) -> HttpResponse:
    # Read by an ESP's delivery log, not a person: plain English, no page.
    return response_class(text[:500], content_type="text/plain; charset=utf-8")


@contextmanager
def _classified():
    """Turn what Anymail raises on unreadable input into UnreadablePayload."""
    from anymail.exceptions import (
        AnymailAPIError,
        AnymailConfigurationError,
        AnymailWebhookValidationFailure,
    )

    try:
        yield
    except AnymailWebhookValidationFailure:
        raise
    except AnymailConfigurationError as error:
        # Raised on what a payload holds ("this looks like a tracking event posted
        # to the inbound URL"); missing settings never get a route at all.
        raise UnreadablePayload(str(error).splitlines()[0][:200]) from error
    except (requests.RequestException, *_boto_errors()) as error:
        raise UpstreamFailure(type(error).__name__) from error
    except AnymailAPIError as error:
        if error.status_code is not None:
            raise UpstreamFailure(f"HTTP {error.status_code}") from error
        # Amazon SES: a body that is not an SNS message.
        raise UnreadablePayload(str(error).splitlines()[0][:200]) from error
    except (ValueError, LookupError, TypeError, AttributeError) as error:
        raise UnreadablePayload(describe(error)) from error
    except (OverflowError, OSError) as error:
        # A time no datetime can hold: fromtimestamp raises OverflowError past
        # time_t, OSError (EOVERFLOW) below it. Any other OSError is no payload's.
        if isinstance(error, OSError) and error.errno != errno.EOVERFLOW:
            raise
        raise UnreadablePayload(describe(error)) from error
    except (AssertionError, RecursionError, MessageError) as error:
        # Anymail asserts the shape of some payloads (Unisender Go).
        raise UnreadablePayload(describe(error)) from error
    except MultiPartParserError as error:
        raise UnreadablePayload(f"not form data ({error})"[:200]) from error


def _boto_errors() -> tuple[type[Exception], ...]:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return ()
    return BotoCoreError, ClientError


def describe(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON ({error.msg} at line {error.lineno} column {error.colno})"
    if isinstance(error, UnicodeDecodeError):
        return "the body is not UTF-8 text"
    if isinstance(error, KeyError):
        return f"a field this ESP always sends is missing ({str(error)[:80]})"
    if isinstance(error, (TypeError, AttributeError, IndexError, AssertionError)):
        return (
            "not the structure this ESP sends "
            "(for example an array or a string where an object belongs)"
        )
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, (OverflowError, OSError)):
        return "a time out of range"
    return f"cannot be read ({type(error).__name__})"


# --- The start-up check -----------------------------------------------------------


@checks.register(checks.Tags.security)
def check_webhook_routes(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Which ESP webhook routes are live, and what is wrong with the wanted ones."""
    mounted, refused = build_routes()
    # "all" means what can be built; an ESP named (or sending) must work.
    named = set(settings.WEBHOOK_ESPS) | {backend_esp()}
    messages = [_live_routes_info(mounted)]
    messages += [
        checks.Warning(
            f"The {r.name.replace('_', ' ')} route is not served: {r.reason}.",
            hint=_hint_for(r),
            id="mailing.W101",
        )
        for r in refused
        if r.reason == NO_SECRET or _esp_of_name(r.name) in named
    ]
    messages += _unsigned_warnings([p for p in mounted if route_esp(p) in named])
    messages += _backend_without_routes(mounted)
    messages += _smtp_blind_tracking(mounted)
    return messages


def route_path(pattern: URLPattern) -> str:
    """The address a route answers at ("/anymail/mailgun/inbound/")."""
    plain = normalize(str(pattern.pattern))[0][0]  # Mailgun's is a regex
    return f"/{URL_PREFIX}{plain}"


def _paths(patterns) -> list[str]:
    return [route_path(p) for p in patterns]


def _live_routes_info(mounted) -> checks.Info:
    if not mounted:
        return checks.Info(
            "No ESP webhook route is live: bounces, complaints and mail to the "
            "unsubscribe address are not received.",
            hint="Set WEBHOOK_ESPS and ANYMAIL_WEBHOOK_SECRET (README, ESP webhooks).",
            id="mailing.I101",
        )
    return checks.Info(
        "Live ESP webhook routes (HTTP basic auth with ANYMAIL_WEBHOOK_SECRET): "
        + ", ".join(_paths(mounted)),
        id="mailing.I101",
    )


def _hint_for(refused: Refused) -> str:
    if refused.reason == NO_SECRET:
        return (
            "Set ANYMAIL_WEBHOOK_SECRET=user:password and give the ESP "
            "https://user:password@<host>/anymail/<esp>/... as the webhook URL."
        )
    return "Set the ESP's ANYMAIL_* settings (README, ESP webhooks)."


def _unsigned_warnings(mounted) -> list[checks.Warning]:
    found = []
    for pattern in mounted:
        key = SIGNING_KEYS.get(pattern.name)
        if key and not settings.ANYMAIL.get(key):
            found.append(
                checks.Warning(
                    f"{route_path(pattern)} is live without {key}: "
                    "the ESP's signature is not checked"
                    + (
                        ", and Mailgun's events are checked against the API key, "
                        "which refuses them all"
                        if key.startswith("MAILGUN")
                        else ""
                    )
                    + ".",
                    hint=f"Set ANYMAIL_{key} from the ESP's webhook settings.",
                    id="mailing.W102",
                )
            )
    return found


def backend_esp() -> str:
    """The ESP whose API sends mail ("mailgun"), or "" (SMTP, console, test)."""
    backend = settings.EMAIL_BACKEND
    if not backend.startswith("anymail.backends.") or backend.endswith(".test"):
        return ""
    return backend.removeprefix("anymail.backends.").partition(".")[0]


def _esp_of_name(route_name: str) -> str:
    for suffix in ("_tracking_webhook", "_inbound_webhook", "_webhook"):
        if route_name.endswith(suffix):
            return route_name.removesuffix(suffix)
    return route_name


def _backend_without_routes(mounted) -> list[checks.Warning]:
    esp = backend_esp()
    # Scaleway TEM has no webhooks in Anymail.
    if not esp or esp == "scaleway" or any(route_esp(p) == esp for p in mounted):
        return []
    return [
        checks.Warning(
            f"Mail goes out through {esp}, but none of its webhook routes is live: "
            "its bounces and complaints are never recorded.",
            hint=f"Add {esp} to WEBHOOK_ESPS (or leave WEBHOOK_ESPS unset).",
            id="mailing.W103",
        )
    ]


def _smtp_blind_tracking(mounted) -> list[checks.Info]:
    if "smtp" not in settings.EMAIL_BACKEND.lower():
        return []
    blind = [
        p
        for p in mounted
        if route_esp(p) in SMTP_BLIND_TRACKING and "tracking" in p.name
    ]
    if not blind:
        return []
    return [
        checks.Info(
            "Mail goes out over SMTP: tracking events at "
            + ", ".join(_paths(blind))
            + " carry the ESP's own message id and never match an attempt.",
            hint="Send through the ESP's API backend for tracking (README).",
            id="mailing.I102",
        )
    ]
