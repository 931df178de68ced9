"""Every address the project serves, requested by every role, against one policy.

The addresses come from the URL resolver (tests/security/urlwalk.py), so a new view
lands here by itself and fails until a rule below says who may open it. Object
addresses name objects owned by mailing user A: user B is "another owner".
A blocked user with an open session must be treated exactly like anonymous.

Outcomes (tests/security/access.py): ok = shown; login = sent to sign in;
deny = 403 or Wagtail's refusal (redirect to the admin home with a message);
404; 405 = no GET here (a POST-only action); redirect = some other redirect;
any = whatever, as long as it is not a server error.
"""

from __future__ import annotations

import csv
import fnmatch
import io
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from openpyxl import load_workbook

from mailing.exports import FORMULA_TRIGGERS
from tests.security.access import outcome
from tests.security.conftest import ROLES
from tests.security.urlwalk import walk, with_query_strings

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Short names keep the table readable (see the module docstring for each outcome).
OK, LOG, NO, NF, POST, RED, ANY = "ok", "login", "deny", "404", "405", "redirect", "any"
BAD = "400"
OKR = "ok|redirect"  # a signed-in user may be sent on from a sign-in page
MAY = "ok|deny"  # depends on the page permissions the page tests pin down
E500 = "500"
UNAUTH = "401"  # the API asks for credentials (WWW-Authenticate: Bearer)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Pages whose signed token is the key: they show its client to whoever holds it.
TOKEN_PAGES = {"mailing:unsubscribe"}


@dataclass(frozen=True)
class Rule:
    pattern: str  # fnmatch over "namespace:name"; unnamed routes over the path
    anonymous: str
    user_a: str
    user_b: str
    manager: str
    editor: str
    superuser: str
    why: str = ""

    def expected(self, role: str) -> str:
        # A blocked user's session ends on the request: they are anonymous.
        return getattr(self, "anonymous" if role == "blocked" else role)


# Upstream behaviour judged acceptable, written down so a change is noticed.
WAGTAIL_CHOOSERS = "Wagtail choosers open to every admin user (public media only)"

# fmt: off
POLICY = [
    # pattern                              anon  usr_a usr_b mgr   edit  super
    # --- mailing workspace: owners see their own, managers read all, editors none ---
    # Object addresses name user A's objects: B is another owner and is refused.
    Rule("mailing_attempt:add",                 LOG,  NO,   NO,   NO,   NO,   NO,
         why="attempts are a read-only log, for everyone"),
    Rule("mailing_attempt:edit",                LOG,  NO,   NO,   NO,   NO,   NO),
    Rule("mailing_attempt:delete",              LOG,  NO,   NO,   NO,   NO,   NO),
    Rule("mailing_suppression:edit",            LOG,  NO,   NO,   NO,   NO,   NO,
         why="suppressed addresses are added and removed (with a reason), not edited"),
    Rule("mailing_suppression:delete",          LOG,  NO,   NO,   NO,   NO,   NO),
    Rule("mailing_suppression:remove",          LOG,  OK,   NO,   NO,   NO,   OK,
         why="the owner lifts their own entry, giving a reason that is logged"),
    Rule("mailing_client:export_data",          LOG,  OK,   NO,   NO,   NO,   OK,
         why="a person's data goes out to the owner only (issue 12)"),
    Rule("mailing_client:erase",                LOG,  OK,   NO,   NO,   NO,   OK),
    Rule("mailing_mailinglist:subscribe_form",  LOG,  OK,   NO,   NO,   NO,   OK,
         why="a list's public form is its owner's; a manager changes no content"),
    Rule("mailing_mailinglist:export_members",  LOG,  OK,   NO,   NO,   NO,   OK,
         why="a list's members' data goes out to its owner only (issue 12)"),
    Rule("mailing_segment:export_members",      LOG,  OK,   NO,   NO,   NO,   OK,
         why="a segment's clients' data goes out to its owner only (issue 12)"),
    Rule("mailing_*:list*",                     LOG,  OK,   OK,   OK,   NO,   OK),
    Rule("mailing_mailing:audience_count",      LOG,  OK,   OK,   OK,   NO,   OK,
         why="a count over the viewer's own lists (or a mailing they may see)"),
    Rule("mailing_segment:count",               LOG,  OK,   OK,   OK,   NO,   OK,
         why="a count over the viewer's own clients (or a segment they may see)"),
    Rule("mailing_*:add",                       LOG,  OK,   OK,   NO,   NO,   OK),
    Rule("mailing_client:import",               LOG,  OK,   OK,   NO,   NO,   OK),
    Rule("mailing_client:import_*",             LOG,  OK,   NF,   NF,   NF,   NF,
         why="an import lists its uploader's file rows: nobody else's to see"),
    Rule("mailing_*:edit",                      LOG,  OK,   NO,   NO,   NO,   OK),
    Rule("mailing_*:delete",                    LOG,  OK,   NO,   NO,   NO,   OK),
    Rule("mailing_mailing:send_*",              LOG,  OK,   NO,   NO,   NO,   OK),
    Rule("mailing_mailing:copy",                LOG,  OK,   NO,   NO,   NO,   OK,
         why="a copy is the owner's: managers change no content"),
    Rule("mailing_message:send_test",           LOG,  OK,   NO,   NO,   NO,   OK),
    Rule("mailing_mailing:pause*",              LOG,  OK,   NO,   NO,   NO,   OK,
         why="pause, resume, cancel: the owner's own controls (issue 10)"),
    Rule("mailing_mailing:resume*",             LOG,  OK,   NO,   NO,   NO,   OK),
    Rule("mailing_mailing:cancel*",             LOG,  OK,   NO,   NO,   NO,   OK),
    Rule("mailing_*:preview_on_add",            LOG,  OK,   OK,   NO,   NO,   OK,
         why="the editor's live preview of a new object (no form state: a notice)"),
    Rule("mailing_*:preview_on_edit",           LOG,  OK,   NO,   NO,   NO,   OK),
    Rule("mailing_senderidentity:resend",       LOG,  OK,   NO,   NO,   NO,   OK),
    Rule("mailing_mailing:*able",                LOG,  NO,   NO,   OK,   NO,   OK,
         why="switching a mailing off or on is the managers' tool"),
    Rule("mailing_*:usage",                     LOG,  OK,   NO,   OK,   NO,   OK),
    Rule("mailing_*:history*",                  LOG,  OK,   NO,   OK,   NO,   OK),
    Rule("mailing_*:inspect",                   LOG,  OK,   NO,   OK,   NO,   OK),
    Rule("mailing_mailing:preview",             LOG,  OK,   NO,   OK,   NO,   OK),
    Rule("mailing_mailing:report",              LOG,  OK,   NO,   OK,   NO,   OK),
    Rule("mailing_reports:*",                   LOG,  OK,   OK,   OK,   NO,   OK),
    Rule("mailing_users:*",                     LOG,  NO,   NO,   OK,   NO,   OK,
         why="blocking users is the managers' tool"),
    Rule("wagtailsnippetchoosers_mailing_*:chosen",
                                                LOG,  OK,   NF,   OK,   NF,   OK),
    Rule("wagtailsnippetchoosers_mailing_*:create",
                                                LOG,  NO,   NO,   NO,   NO,   NO,
         why="choosers have no create tab: it would bypass the owner-setting form"),
    Rule("wagtailsnippetchoosers_mailing_*",    LOG,  OK,   OK,   OK,   OK,   OK,
         why="choosers list only the user's own rows (LEAK CHECK below)"),
    Rule("mailing_api_tokens:revoke",           LOG,  OK,   NF,   NF,   NO,   NF,
         why="A's own token: nobody else's to revoke, superusers' included"),
    Rule("mailing_api_tokens:*",                LOG,  OK,   OK,   OK,   NO,   OK,
         why="each user's own API tokens; editors have no API"),
    # --- the REST API (issue 15): the same policy; tests/api/test_access.py has
    # every endpoint x role x method, with tokens ---
    Rule("api:schema",                          OK,   OK,   OK,   OK,   OK,   OK,
         why="the OpenAPI document and its reference page: public documentation"),
    Rule("api:docs",                            OK,   OK,   OK,   OK,   OK,   OK),
    Rule("api:*-detail",                        UNAUTH, OK,  NF,   OK,   NO,   OK,
         why="another owner's id does not exist for B"),
    Rule("api:mailing-*able",                   UNAUTH, NO,  NO,   POST, NO,   POST,
         why="POST only: the managers' switch"),
    Rule("api:user-*block",                     UNAUTH, NO,  NO,   POST, NO,   POST),
    Rule("api:*-send-now",                      UNAUTH, POST, POST, NO,  NO,   POST,
         why="POST only: the owner's controls; managers change nothing"),
    Rule("api:*-test-send",                     UNAUTH, POST, POST, NO,  NO,   POST),
    Rule("api:*-pause",                         UNAUTH, POST, POST, NO,  NO,   POST),
    Rule("api:*-resume",                        UNAUTH, POST, POST, NO,  NO,   POST),
    Rule("api:*-cancel",                        UNAUTH, POST, POST, NO,  NO,   POST),
    Rule("api:sender-resend",                   UNAUTH, POST, POST, NO,  NO,   POST,
         why="POST only: the owner's identity; managers change nothing"),
    Rule("api:segment-count",                   UNAUTH, OK,  NF,   OK,   NO,   OK,
         why="a count over A's segment: A's, and the managers' to read"),
    Rule("api:mailing-report",                  UNAUTH, OK,  NF,   OK,   NO,   OK,
         why="a mailing's figures: its owner's, every one for a manager"),
    Rule("api:list-*subscri*",                  UNAUTH, POST, POST, NO,  NO,   POST,
         why="POST only: an owner's list; managers change nothing"),
    Rule("api:suppression-lift",                UNAUTH, POST, POST, POST, NO,   POST,
         why="POST only: the owner lifts with a note (a manager's POST is refused)"),
    Rule("api:client-bulk",                     UNAUTH, POST, POST, NO,   NO,   POST,
         why="POST only; managers add no clients"),
    Rule("api:user-list",                       UNAUTH, NO,  NO,   OK,   NO,   OK,
         why="blocking users is the managers' tool"),
    Rule("api:*-list",                          UNAUTH, OK,  OK,   OK,   NO,   OK,
         why="own rows (a manager's: every row); editors have no API"),
    Rule("wagtailapi:pages:find",               NF,   NF,   NF,   NF,   NF,   NF,
         why="no page asked for"),
    Rule("wagtailapi:*",                        OK,   OK,   OK,   OK,   OK,   OK,
         why="Wagtail's API v2: live public pages only, read-only"),
    # --- public site and machine endpoints ---
    Rule("healthz",                             OK,   OK,   OK,   OK,   OK,   OK),
    Rule("/*draft-probe/",                      NF,   NF,   NF,   NF,   NF,   NF,
         why="an unpublished post: no one reads it on the public site"),
    Rule("wagtail_serve",                       OK,   OK,   OK,   OK,   OK,   OK,
         why="every live page of the site and blog, in both languages"),
    Rule("robots_txt",                          OK,   OK,   OK,   OK,   OK,   OK),
    Rule("favicon",                             RED,  RED,  RED,  RED,  RED,  RED,
         why="on to the static file, for browsers that ask for /favicon.ico"),
    Rule("sitemap",                             OK,   OK,   OK,   OK,   OK,   OK),
    Rule("blog_feed_*",                         OK,   OK,   OK,   OK,   OK,   OK),
    Rule("wagtaildocs_serve",                   OK,   OK,   OK,   OK,   OK,   OK),
    Rule("wagtailcore_login",                   OK,   OK,   OK,   OK,   OK,   OK),
    Rule("set_language",                        RED,  RED,  RED,  RED,  RED,  RED),
    # --- accounts: public doors, and the profile for the signed-in ---
    Rule("accounts:logout",                     POST, POST, POST, POST, POST, POST),
    Rule("accounts:login",                      OK,   RED,  RED,  RED,  RED,  RED),
    Rule("accounts:signup",                     OK,   RED,  RED,  RED,  RED,  RED,
         why="like the login: the signed-in are sent on to their workspace"),
    Rule("accounts:verify_email",               BAD,  BAD,  BAD,  BAD,  BAD,  BAD,
         why="the probe token is not a signed token"),
    Rule("accounts:confirm_email_change",       BAD,  BAD,  BAD,  BAD,  BAD,  BAD),
    Rule("accounts:password_reset_confirm",     BAD,  BAD,  BAD,  BAD,  BAD,  BAD,
         why="the probe's uid and token are no reset link: a dead link, as above"),
    Rule("accounts:profile",                    LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("accounts:password_change",            LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("accounts:change_email",               LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("accounts:*",                          OK,   OK,   OK,   OK,   OK,   OK),
    # --- the admin's own doors lead to the accounts pages: one door, one set of rules
    Rule("admin_login_redirect",                LOG,  LOG,  LOG,  LOG,  LOG,  LOG),
    Rule("/admin/password_reset/",              RED,  RED,  RED,  RED,  RED,  RED),
    Rule("wagtailadmin_password_reset*",        NF,   NF,   NF,   NF,   NF,   NF,
         why="Wagtail's own reset is switched off (WAGTAIL_PASSWORD_RESET_ENABLED)"),
    Rule("wagtailadmin_sprite",                 OK,   OK,   OK,   OK,   OK,   OK),
    Rule("wagtailadmin_javascript_catalog",     OK,   OK,   OK,   OK,   OK,   OK),
    Rule("wagtailadmin_logout",                 LOG,  POST, POST, POST, POST, POST),
    Rule("wagtailadmin_error_test",             LOG,  E500, E500, E500, E500, E500,
         why="Wagtail's deliberate 'failwhale' error page"),
    # --- anything every signed-in admin user may open ---
    Rule("wagtailadmin_home",                   LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("/admin/test404/",                     LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("/admin/no-such-admin-page/",          LOG,  NF,   NF,   NF,   NF,   NF),
    Rule("wagtailadmin_account",                LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("wagtailadmin_dismissibles",           LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("wagtailadmin_block_preview",          LOG,  NF,   NF,   NF,   NF,   NF),
    Rule("wagtailadmin_tag_autocomplete",       LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("wagtailadmin_choose_page_child",      LOG,  NF,   NF,   NF,   OK,   OK,
         why="opened at the draft's parent: only those who may edit pages see it"),
    Rule("wagtailadmin_choose_*",               LOG,  OK,   OK,   OK,   OK,   OK,
         why="link choosers of the rich-text editor, used in message bodies"),
    Rule("wagtailembeds:*",                     LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("wagtailimages_chooser:create",        LOG,  NO,   NO,   NO,   OK,   OK),
    Rule("wagtaildocs_chooser:create",          LOG,  NO,   NO,   NO,   OK,   OK),
    Rule("wagtailimages_chooser:*",             LOG,  OK,   OK,   OK,   OK,   OK,
         why=WAGTAIL_CHOOSERS),
    Rule("wagtaildocs_chooser:*",               LOG,  OK,   OK,   OK,   OK,   OK,
         why=WAGTAIL_CHOOSERS),
    Rule("wagtailadmin_api:pages:detail",       LOG,  NF,   NF,   NF,   OK,   OK),
    Rule("wagtailadmin_api:*:find",             LOG,  NF,   NF,   NF,   NF,   NF),
    Rule("wagtailadmin_api:*",                  LOG,  OK,   OK,   OK,   OK,   OK,
         why="the admin API behind choosers; pages listed only where permitted"),
    Rule("wagtailadmin_workflows:task_cho*",    LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("wagtailadmin_pages:move_confirm",     LOG,  OK,   OK,   OK,   OK,   OK,
         why="Wagtail shows the confirmation to any admin user; the POST checks"),
    Rule("wagtailadmin_pages:confirm_workflow_c*", LOG,  OK,   OK,   OK,   OK,   OK),
    Rule("wagtailadmin_pages:choose_parent",    LOG,  OK,   OK,   OK,   OK,   OKR,
         why="one possible parent: Wagtail goes straight on"),
    Rule("wagtailadmin_reports:site_history*",  LOG,  OK,   OK,   OK,   OK,   OK,
         why="Wagtail filters the log to what the user may see"),
    # --- POST-only admin actions ---
    Rule("wagtailadmin_pages:set_page_position", LOG,  POST, POST, POST, POST, POST),
    Rule("wagtailadmin_pages:lock",             LOG,  POST, POST, POST, POST, POST),
    Rule("wagtailadmin_pages:unlock",           LOG,  POST, POST, POST, POST, POST),
    Rule("wagtailadmin_workflows:remove",       LOG,  POST, POST, POST, POST, POST),
    Rule("wagtail*:edit_multiple",              LOG,  POST, POST, POST, POST, POST),
    Rule("wagtail*:delete_multiple",            LOG,  POST, POST, POST, POST, POST),
    Rule("wagtailadmin_pages:revisions_index",  LOG,  RED,  RED,  RED,  RED,  RED),
    # --- site and blog pages: editors only ---
    # The site root is the home page, under which editors add blog indexes and the
    # mailing archive: Wagtail asks which.
    Rule("wagtailadmin_pages:add_subpage",      LOG,  NO,   NO,   NO,   OK,   OK),
    Rule("wagtailadmin_pages:preview_on_add",   LOG,  NO,   NO,   NO,   OK,   OK),
    Rule("wagtailadmin_pages:add*",             LOG,  NO,   NO,   NO,   NO,   NO,
         why="the fixture page type cannot be created by hand"),
    Rule("wagtailadmin_pages:convert_alias",    LOG,  NF,   NF,   NF,   NF,   NF),
    Rule("wagtailadmin_pages:workflow_preview", LOG,  NO,   NO,   NO,   NO,   NO),
    Rule("wagtailadmin_pages:delete",           LOG,  NO,   NO,   NO,   NO,   OK,
         why="the site's root page: nobody but a superuser removes it"),
    Rule("wagtailadmin_pages:unpublish",        LOG,  NO,   NO,   NO,   MAY,  OK),
    Rule("wagtailadmin_pages:move",             LOG,  NO,   NO,   NO,   MAY,  OK),
    Rule("wagtailadmin_pages:set_privacy",      LOG,  NO,   NO,   NO,   MAY,  OK),
    Rule("wagtailadmin_pages:revisions_unschedule", LOG,  NO,   NO,   NO,   MAY,  OK),
    Rule("wagtailadmin_pages:*",                LOG,  NO,   NO,   NO,   OK,   OK),
    Rule("wagtailadmin_explore_root",           LOG,  NO,   NO,   NO,   OK,   OK,
         why="an editor may edit two home pages (ru, en): the explorer lists both"),
    Rule("wagtailadmin_explore*",               LOG,  NO,   NO,   NO,   OK,   OK),
    Rule("wagtailadmin_reports:locked_pages*",  LOG,  NO,   NO,   NO,   NO,   OK),
    Rule("wagtailadmin_reports:*",              LOG,  NO,   NO,   NO,   OK,   OK),
    Rule("wagtailforms:list_submissions*",      LOG,  NF,   NF,   NF,   NF,   NF,
         why="the fixture page is not a form page"),
    Rule("wagtailforms:delete_submissions",     LOG,  NO,   NO,   NO,   NO,   NO),
    Rule("wagtailforms:*",                      LOG,  NO,   NO,   NO,   OK,   OK),
    Rule("wagtailimages:url_generator*",        LOG,  NO,   NO,   NO,   NF,   NF,
         why="dynamic image serving is not installed"),
    Rule("wagtailimages:*",                     LOG,  NO,   NO,   NO,   OK,   OK),
    Rule("wagtaildocs:*",                       LOG,  NO,   NO,   NO,   OK,   OK),
    # --- site administration: superusers only ---
    Rule("wagtailadmin_collections:*",          LOG,  NO,   NO,   NO,   NO,   OK),
    Rule("wagtailadmin_workflows:select_task_type", LOG,  NO,   NO,   NO,   NO,   RED),
    Rule("wagtailadmin_workflows:*",            LOG,  NO,   NO,   NO,   NO,   OK),
    Rule("wagtailredirects:process_import",     LOG,  NO,   NO,   NO,   NO,   POST),
    Rule("wagtailredirects:*",                  LOG,  NO,   NO,   NO,   NO,   OK),
    Rule("wagtailsites:*",                      LOG,  NO,   NO,   NO,   NO,   OK),
    Rule("wagtaillocales:add",                  LOG,  NO,   NO,   NO,   NO,   NO,
         why="every content language has its locale (home 0004_i18n): none to add"),
    Rule("wagtaillocales:*",                    LOG,  NO,   NO,   NO,   NO,   OK),
    Rule("simple_translation:*",                LOG,  NO,   NO,   NO,   OK,   OK,
         why="editors translate the pages they may edit (home 0004_i18n)"),
    Rule("wagtailusers_groups:*",               LOG,  NO,   NO,   NO,   NO,   OK),
    Rule("wagtailusers_users:*",                LOG,  NO,   NO,   NO,   NO,   OK),
    Rule("wagtail_bulk_action",                 LOG,  NF,   NF,   NF,   NF,   NF,
         why="no ids given: nothing to act on"),
    # Bulk actions asked for objects of both owners (or the draft and the home page):
    # each viewer gets only what they may act on, and 404 when that is nothing.
    Rule("wagtail_bulk_action:mailing.*",       LOG,  OK,   OK,   OK,   NF,   OK,
         why="one's own rows (a manager's: every row), those not to act on marked"),
    Rule("wagtail_bulk_action:wagtailcore.page.*", LOG, NF,   NF,   NF,   OK,   OK),
    Rule("wagtail_bulk_action:accounts.user.*", LOG,  NO,   NO,   NO,   NO,   OK),
    Rule("wagtail_bulk_action:wagtail*.*",      LOG,  OK,   OK,   OK,   OK,   OK,
         why="every role may choose images and documents: their titles are no secret;"
             " those one may not change are marked so"),
    Rule("wagtailsnippets:index",               LOG,  NO,   NO,   NO,   NO,   NO,
         why="no generic snippets are registered"),
    # --- unsubscribing from an email: the signed token is the key, GET only asks ---
    Rule("mailing:unsubscribe",                 OK,   OK,   OK,   OK,   OK,   OK,
         why="a real token: the confirmation page, for anyone holding the link"),
    Rule("mailing:unsubscribe_list",            NF,   NF,   NF,   NF,   NF,   NF,
         why="the probe token is not signed; test_list_unsubscribe opens real ones"),
    # --- open pixel and click redirects in sent emails: the attempt token is the key
    Rule("mailing:open",                        OK,   OK,   OK,   OK,   OK,   OK,
         why="the image for anyone; only a real attempt token records an open"),
    Rule("mailing:click",                       NF,   NF,   NF,   NF,   NF,   NF,
         why="the probe token names no attempt; a real one redirects to its own link"),
    Rule("mailing:web_version",                 NF,   NF,   NF,   NF,   NF,   NF,
         why="the probe token is not signed; test_web_version opens real ones"),
    Rule("mailing_send_newsletter",             LOG,  NF,   NF,   NF,   NF,   NF,
         why="the walk's page is not a blog post; test_newsletter covers the roles"),
    # --- public subscribe forms (issue 12): the form's key and the signed link ---
    Rule("mailing:subscribe",                   NF,   NF,   NF,   NF,   NF,   NF,
         why="the probe is no form's key; test_subscribe opens real ones"),
    Rule("mailing:confirm_subscription",        NF,   NF,   NF,   NF,   NF,   NF,
         why="the probe token is not signed; test_subscribe confirms real links"),
    Rule("mailing:confirm_sender",              LOG,  BAD,  BAD,  BAD,  BAD,  BAD,
         why="the owner confirms signed in; the probe token is not a signed token"),
    # --- ESP webhooks: POSTed by the ESP with basic auth; GET is not a method ---
    Rule("anymail:*",                           POST, POST, POST, POST, POST, POST,
         why="only configured ESPs are routed (site_config/security.py)"),
]
# fmt: on


def rule_for(name: str, path: str) -> Rule | None:
    for rule in POLICY:
        subject = path if rule.pattern.startswith("/") else name
        if fnmatch.fnmatchcase(subject, rule.pattern):
            return rule
    return None


def matches(expected: str, got: str) -> bool:
    if expected == ANY:
        return not got.startswith("5")
    return got in expected.split("|")


class Session:
    """One role's browser: re-signs in when a response ended the session."""

    def __init__(self, world, role: str):
        self.user = world.users[role]
        self.role = role
        self.http = world.client_for(role, raise_request_exception=False)

    def get(self, path: str):
        if self.role == "blocked":
            # The point is a blocked user who still holds a session cookie.
            self.http.force_login(self.user)
        response = self.http.get(path)
        cookie = response.cookies.get(settings.SESSION_COOKIE_NAME)
        if self.user is not None and cookie is not None and not cookie.value:
            self.http.force_login(self.user)
        return response


def raw_body(response) -> bytes:
    if getattr(response, "streaming", False):  # CSV and XLSX downloads
        return b"".join(response.streaming_content)
    return getattr(response, "content", b"")


def cells_of(content_type: str, raw: bytes) -> list[str] | None:
    """The cells of a CSV or XLSX download; None for anything else."""
    if content_type.startswith("text/csv"):
        rows = csv.reader(io.StringIO(raw.decode(errors="replace")))
        return [cell for row in rows for cell in row]
    if content_type.startswith(XLSX):
        sheet = load_workbook(io.BytesIO(raw)).active
        return [str(c) for r in sheet.iter_rows(values_only=True) for c in r if c]
    return None


def leaked(world, role: str, body: str, where: str) -> list[str]:
    """An owner's names, emails and subjects reach no other owner or editor; a
    draft's title reaches only those who may edit pages."""
    return [
        f"{where}: {marker!r}"
        for marker in world.forbidden_markers(role)
        if marker in body
    ]


def formulas_in(cells: list[str] | None, where: str) -> list[str]:
    """Cells of a download that a spreadsheet would run as a formula."""
    if cells is None:
        return [f"{where}: not a CSV or XLSX download"]
    return [f"{where}: {c!r}" for c in cells if c.startswith(FORMULA_TRIGGERS)]


@dataclass
class Check:
    """Requests each target as every role and collects what differs from POLICY."""

    world: object
    sessions: dict = field(default_factory=dict)
    unknown: list = field(default_factory=list)
    wrong: list = field(default_factory=list)
    leaks: list = field(default_factory=list)
    formulas: list = field(default_factory=list)
    used: set = field(default_factory=set)
    cells: int = 0

    def __post_init__(self):
        self.sessions = {role: Session(self.world, role) for role in ROLES}

    def run(self, targets) -> None:
        for target in targets:
            rule = rule_for(target.name, target.path)
            if rule is None:
                self.unknown.append(f"{target.name} {target.url}")
                continue
            self.used.add(rule.pattern)
            for role in ROLES:
                self.request(target, rule, role)

    def request(self, target, rule, role: str) -> None:
        response = self.sessions[role].get(target.url)
        got = outcome(response)
        self.cells += 1
        where = f"{target.url} as {role}"
        if got == OK and target.name not in TOKEN_PAGES:
            raw = raw_body(response)
            cells = cells_of(response.get("Content-Type", ""), raw)
            body = (
                "\n".join(cells)
                if cells is not None
                else raw.decode("utf-8", "replace")
            )
            self.leaks += leaked(self.world, role, body, where)
            if target.query.startswith("?export="):
                self.formulas += formulas_in(cells, where)
        if not matches(rule.expected(role), got):
            self.wrong.append(
                f"{target.url} ({target.name}) as {role}: "
                f"expected {rule.expected(role)}, got {got}"
            )

    def assert_clean(self) -> None:
        assert not self.leaks, "data shown to those who may not see it:\n" + "\n".join(
            self.leaks
        )
        assert not self.formulas, "formulas in downloads:\n" + "\n".join(self.formulas)
        assert not self.unknown, (
            "addresses with no policy rule (decide who may open them):\n"
            + "\n".join(self.unknown)
        )
        assert not self.wrong, f"{len(self.wrong)} cells differ from the policy:\n" + (
            "\n".join(self.wrong)
        )


def test_every_address_answers_every_role_as_the_policy_says(world):
    result = walk(world.filler())
    result.print_summary("URL walk")
    check = Check(world)
    check.run(result.targets)
    print(
        f"access cells checked: {check.cells} "
        f"({len(result.targets)} addresses x {len(ROLES)} roles), "
        f"skipped routes: {len(result.skipped)}, rules unused: "
        f"{sorted({r.pattern for r in POLICY} - check.used)}"
    )
    check.assert_clean()


def test_every_view_answers_its_query_strings_as_the_policy_says(world):
    """Exports of every listing and report, chooser searches and ids of several
    owners, every bulk action's confirmation: issue 11 found leaks only there."""
    targets = with_query_strings(walk(world.filler()), world.probes())
    check = Check(world)
    check.run(targets)
    kinds = {
        "exports (?export=csv|xlsx)": [t for t in targets if "export=" in t.query],
        "bulk actions with ids of every owner": [
            t for t in targets if t.name.startswith("wagtail_bulk_action:")
        ],
        "chooser searches and ids of every owner": [
            t
            for t in targets
            if t.foreign and not t.name.startswith("wagtail_bulk_action:")
        ],
    }
    print(
        f"query-string cells checked: {check.cells} "
        f"({len(targets)} addresses x {len(ROLES)} roles), of which with foreign "
        f"ids or searches: {sum(t.foreign for t in targets) * len(ROLES)}"
    )
    for kind, found in kinds.items():
        print(f"  {kind}: {len(found)} addresses, {len(found) * len(ROLES)} cells")
    check.assert_clean()
