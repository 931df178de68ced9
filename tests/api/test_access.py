"""Every endpoint x role x method against one table: the admin's policy, through the
API (issue 15). Object addresses name user A's objects; B is another owner, for
whom they do not exist. Editors get nothing; a blocked user's token stops working;
anonymous is asked to authenticate."""

import pytest

from .conftest import ROLES

pytestmark = pytest.mark.django_db

UNAUTH, OK, CREATED, GONE, DENY, NF, CONFLICT = 401, 200, 201, 204, 403, 404, 409

LISTS = [
    *("clients", "lists", "suppressions", "messages", "layouts", "senders"),
    *("client-fields", "segments"),
    *("mailings", "runs", "attempts", "events"),
]
OBJECTS = {  # path -> the world id it names
    "clients/{client}/": "client",
    "lists/{list}/": "list",
    "suppressions/{suppression}/": "suppression",
    "messages/{message}/": "message",
    "layouts/{layout}/": "layout",
    "senders/{sender}/": "sender",
    "mailings/{mailing}/": "mailing",
    "runs/{run}/": "run",
    "attempts/{attempt}/": "attempt",
    "events/{event}/": "event",
    "client-fields/{clientfield}/": "clientfield",
    "segments/{segment}/": "segment",
    "segments/{segment}/count/": "segment",
}

# fmt: off
U, C, NO, CF, NA = UNAUTH, CREATED, DENY, CONFLICT, 405
#        method   path                        anon a   b   mgr edit blk super
TABLE = [
    *[("get", f"{name}/",                      U, OK, OK, OK, NO, U, OK)
      for name in LISTS],
    *[("get", path,                            U, OK, NF, OK, NO, U, OK)
      for path in OBJECTS],
    ("get",  "users/",                         U, NO, NO, OK, NO, U, OK),
    ("post", "clients/",                       U, C,  C,  NO, NO, U, C),
    ("post", "clients/bulk/",                  U, OK, OK, NO, NO, U, OK),
    ("patch", "clients/{client}/",             U, OK, NF, NO, NO, U, OK),
    ("post", "lists/",                         U, C,  C,  NO, NO, U, C),
    ("patch", "lists/{list}/",                 U, OK, NF, NO, NO, U, OK),
    ("post", "lists/{list}/subscribe/",        U, OK, NF, NO, NO, U, OK),
    ("post", "lists/{list}/unsubscribe/",      U, OK, NF, NO, NO, U, OK),
    ("post", "lists/{list}/subscriptions/",    U, OK, NF, NO, NO, U, OK),
    ("post", "suppressions/",                  U, C,  C,  NO, NO, U, C),
    ("post", "client-fields/",                 U, C,  C,  NO, NO, U, C),
    ("patch", "client-fields/{clientfield}/",  U, OK, NF, NO, NO, U, OK),
    ("post", "segments/",                      U, C,  C,  NO, NO, U, C),
    ("patch", "segments/{segment}/",           U, OK, NF, NO, NO, U, OK),
    # A lifts the entry first: it is gone for the roles asked after (the
    # manager's refusal and the superuser's right: test_lifting_is_the_owners).
    ("post", "suppressions/{suppression}/lift/", U, OK, NF, NF, NO, U, NF),
    # Never deleted outright: the policy refuses before the method is looked at.
    ("delete", "suppressions/{suppression}/",  U, NO, NO, NO, NO, U, NO),
    ("put",  "messages/{message}/",            U, OK, NF, NO, NO, U, OK),
    ("post", "layouts/",                       U, C,  C,  NO, NO, U, C),
    ("patch", "layouts/{layout}/",             U, OK, NF, NO, NO, U, OK),
    ("post", "senders/",                       U, C,  C,  NO, NO, U, C),
    ("patch", "senders/{sender}/",             U, OK, NF, NO, NO, U, OK),
    ("post", "senders/{sender}/resend/",       U, OK, NF, NO, NO, U, OK),
    ("patch", "mailings/{mailing}/",           U, OK, NF, NO, NO, U, OK),
    ("get",  "mailings/{mailing}/report/",     U, OK, NF, OK, NO, U, OK),
    ("post", "mailings/{mailing}/pause/",      U, OK, NF, NO, NO, U, OK),
    ("post", "mailings/{mailing}/resume/",     U, OK, NF, NO, NO, U, OK),
    ("post", "mailings/{mailing}/cancel/",     U, CF, NF, NO, NO, U, CF),
    ("post", "mailings/{mailing}/test-send/",  U, OK, NF, NO, NO, U, OK),
    ("post", "messages/{message}/test-send/",  U, OK, NF, NO, NO, U, OK),
    # Owners may not moderate at all: refused before any object is looked up.
    ("post", "mailings/{mailing}/disable/",    U, NO, NO, OK, NO, U, OK),
    ("post", "mailings/{mailing}/enable/",     U, NO, NO, OK, NO, U, OK),
    # A finished run: nothing to pause, resume or cancel.
    ("post", "runs/{run}/pause/",              U, CF, NF, NO, NO, U, CF),
    ("post", "runs/{run}/resume/",             U, CF, NF, NO, NO, U, CF),
    ("post", "runs/{run}/cancel/",             U, CF, NF, NO, NO, U, CF),
    ("post", "users/{user_a}/unblock/",        U, NO, NO, OK, NO, U, OK),
    # Attempts are a read-only log for everyone (the admin's policy says so first).
    ("post", "attempts/",                      U, NO, NO, NO, NO, U, NO),
    ("delete", "attempts/{attempt}/",          U, NO, NO, NO, NO, U, NO),
    ("post", "runs/",                          U, NA, NA, NO, NO, U, NA),
]
# fmt: on

BODIES = {
    "clients/": {"email": "new-{role}@example.org", "full_name": "New"},
    "clients/bulk/": {"clients": [{"email": "bulk-{role}@example.org"}]},
    "clients/{client}/": {"comment": "changed by {role}"},
    "lists/": {"name": "List of {role}"},
    "client-fields/": {"key": "size", "label": "Size of {role}", "kind": "number"},
    "client-fields/{clientfield}/": {"label": "Town of {role}"},
    "segments/": {
        "name": "VIP of {role}",
        "rules": [{"type": "tag", "op": "has", "value": "vip"}],
    },
    "segments/{segment}/": {"name": "Renamed by {role}"},
    "lists/{list}/": {"description": "changed by {role}"},
    "lists/{list}/subscribe/": {"clients": []},
    "lists/{list}/unsubscribe/": {"clients": []},
    "lists/{list}/subscriptions/": {"email": "by-{role}@example.org"},
    "suppressions/": {"email": "never-{role}@example.org", "detail": "by hand"},
    "suppressions/{suppression}/lift/": {"note": "asked to be mailed again"},
    "messages/{message}/": {"subject": "By {role}", "body": "Text"},
    "layouts/": {"name": "Layout of {role}", "body": []},
    "layouts/{layout}/": {"name": "Renamed by {role}"},
    "senders/": {
        "from_name": "Shop of {role}",
        "from_email": "news-{role}@example.org",
        "postal_address": "1 Main St",
    },
    "senders/{sender}/": {"reply_to": "help-{role}@example.org"},
    "mailings/{mailing}/": {"name": "Renamed by {role}"},
}


def body_for(path: str, role: str):
    template = BODIES.get(path)
    if template is None:
        return None
    import json

    return json.loads(json.dumps(template).replace("{role}", role))


@pytest.mark.parametrize(
    "method,path,expected", [(row[0], row[1], row[2:]) for row in TABLE]
)
def test_every_endpoint_answers_every_role_as_the_table_says(
    world, method, path, expected
):
    url = "/api/v1/" + path.format(**world["ids"])
    wrong = []
    for role, want in zip(ROLES, expected, strict=True):
        api = world["apis"][role]
        answer = getattr(api, method)(url, body_for(path, role), format="json")
        if answer.status_code != want:
            wrong.append(
                f"{role}: {answer.status_code} (want {want}) {answer.content[:200]}"
            )
        elif answer.status_code >= 400:
            assert set(answer.json()) >= {"code", "message"}, answer.content
    assert not wrong, f"{method.upper()} {url}\n" + "\n".join(wrong)


def test_delete_is_the_owners(world):
    from tests.factories import make_client

    a = world["users"]["user_a"]
    for role, want in [
        ("anonymous", UNAUTH),
        ("user_b", NF),
        ("manager", DENY),
        ("editor", DENY),
        ("blocked", UNAUTH),
        ("user_a", GONE),
    ]:
        client = make_client(a)
        answer = world["apis"][role].delete(f"/api/v1/clients/{client.pk}/")
        assert answer.status_code == want, (role, answer.content)


def test_another_owner_sees_none_of_a_in_listings(world):
    for name in LISTS:
        rows = world["apis"]["user_b"].get(f"/api/v1/{name}/").json()["results"]
        # Shared layouts (no owner) are everyone's; nothing of A's is listed.
        assert [row for row in rows if not row.get("shared")] == [], name
        rows = world["apis"]["manager"].get(f"/api/v1/{name}/").json()["results"]
        assert rows, name


def test_a_foreign_run_or_mailing_filter_lists_nothing(world):
    ids = world["ids"]
    for query in (f"run={ids['run']}", f"mailing={ids['mailing']}"):
        url = f"/api/v1/attempts/?{query}"
        assert world["apis"]["user_b"].get(url).json()["results"] == [], query
        rows = world["apis"]["user_a"].get(url).json()["results"]
        assert [row["id"] for row in rows] == [ids["attempt"]], query


def test_a_foreign_id_in_a_payload_is_not_found(world):
    b = world["apis"]["user_b"]
    ids = world["ids"]
    own_message = b.post(
        "/api/v1/messages/", {"subject": "B", "body": "B"}, format="json"
    ).json()["id"]
    answer = b.post(
        "/api/v1/mailings/",
        {
            "name": "Steal",
            "message": ids["message"],
            "first_send_at": "2030-01-01T10:00:00Z",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert "message" in answer.json()["fields"]
    answer = b.post(
        "/api/v1/mailings/",
        {
            "name": "Steal",
            "message": own_message,
            "lists": [ids["list"]],
            "first_send_at": "2030-01-01T10:00:00Z",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert str(ids["list"]) in answer.json()["fields"]["lists"][0]
    # Subscribing A's client to B's own list: A's client is not found for B.
    own_list = b.post("/api/v1/lists/", {"name": "B's"}, format="json").json()["id"]
    answer = b.post(
        f"/api/v1/lists/{own_list}/subscribe/",
        {"clients": [ids["client"]]},
        format="json",
    )
    assert answer.status_code == 400
    assert str(ids["client"]) in answer.json()["fields"]["clients"][0]


def test_a_read_only_token_reads_only(world):
    from accounts.models import ApiToken
    from mailing.api.tokens import issue_token

    from .conftest import bearer

    _token, raw = issue_token(world["users"]["user_a"], "ro", ApiToken.Scope.READ)
    api = bearer(raw)
    assert api.get("/api/v1/clients/").status_code == OK
    answer = api.post("/api/v1/clients/", {"email": "x@example.org"}, format="json")
    assert answer.status_code == DENY
    assert answer.json()["code"] == "permission_denied"


def test_lifting_a_suppression_is_the_owners_a_manager_only_sees_it(world):
    from mailing.models import Suppression, SuppressionRemoval

    path = f"/api/v1/suppressions/{world['ids']['suppression']}/"
    note = {"note": "asked to be mailed again"}
    manager, superuser = world["apis"]["manager"], world["apis"]["superuser"]

    assert manager.get(path).status_code == OK
    assert manager.post(f"{path}lift/", note, format="json").status_code == DENY
    assert Suppression.objects.filter(pk=world["ids"]["suppression"]).exists()
    refused = superuser.post(f"{path}lift/", {}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()["fields"]
    assert superuser.post(f"{path}lift/", note, format="json").status_code == OK
    assert not Suppression.objects.filter(pk=world["ids"]["suppression"]).exists()
    assert SuppressionRemoval.objects.get().note == note["note"]


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "FOO"])
def test_a_method_the_policy_has_no_action_for_is_405(owner, token_for, method):
    """TRACE reached the policy, which had no action for it: a KeyError, a 500."""
    from mailing.api.urls import router

    api = token_for(owner)
    for prefix, _viewset, _basename in router.registry:
        response = api.generic(method, f"/api/v1/{prefix}/")
        # Users are the managers' alone: refused before any method is looked at.
        expected = (
            (403, "permission_denied") if prefix == "users" else (405, NOT_ALLOWED)
        )
        assert (response.status_code, response.json()["code"]) == expected, prefix


NOT_ALLOWED = "method_not_allowed"


# listing, filter, the world id it is given
ID_FILTERS = [
    ("runs", "mailing", "mailing"),
    ("attempts", "mailing", "mailing"),
    ("attempts", "run", "run"),
    ("attempts", "client", "client"),
    ("events", "attempt", "attempt"),
    ("events", "mailing", "mailing"),
]


@pytest.mark.parametrize(("listing", "name", "kind"), ID_FILTERS)
def test_a_foreign_id_in_a_filter_answers_as_an_id_that_does_not_exist(
    world, listing, name, kind
):
    """An id filter checked against every row of its table let B tell A's ids
    (an empty page) from ids that exist nowhere (a 400)."""
    b = world["apis"]["user_b"]
    foreign = b.get(f"/api/v1/{listing}/?{name}={world['ids'][kind]}")
    missing = b.get(f"/api/v1/{listing}/?{name}=987654321")
    assert foreign.status_code == missing.status_code
    assert foreign.json() == missing.json()
    assert foreign.status_code == 200
    assert foreign.json()["results"] == []
    own = world["apis"]["user_a"].get(f"/api/v1/{listing}/?{name}={world['ids'][kind]}")
    assert own.json()["results"], listing


@pytest.mark.parametrize(("listing", "name", "_kind"), ID_FILTERS)
@pytest.mark.parametrize("junk", ["abc", "1.5", "-"])
def test_an_id_filter_that_is_no_whole_number_is_a_400_naming_it(
    world, listing, name, _kind, junk
):
    answer = world["apis"]["user_a"].get(f"/api/v1/{listing}/?{name}={junk}")
    assert answer.status_code == 400, answer.content
    assert list(answer.json()["fields"]) == [name]
