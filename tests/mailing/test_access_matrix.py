"""Who may open what: the whole policy as one table per model.

Outcomes:
  see    200 and user A's object is on the page
  hidden 200 but A's object is not on the page (a listing of one's own rows)
  ok     200 (a form or page that shows no object of A)
  denied Wagtail's refusal: redirect to the admin home with an error message
  login  redirect to the sign-in page
All objects belong to user A.
"""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

ROLES = ["anonymous", "user_a", "user_b", "manager", "editor", "blocked", "superuser"]
VIEWS = [
    "list",
    "add",
    "edit",
    "delete",
    "inspect",
    "history",
    "usage",
    "chooser",
    "export",
    "actions",
]

# S = see, H = hidden, O = ok, D = denied, L = login, - = no such view
CODES = {"S": "see", "H": "hidden", "O": "ok", "D": "denied", "L": "login", "-": None}

# fmt: off
MATRIX = {
    #                list add edit del insp hist usage chooser export actions
    "client": {
        "anonymous": "L    L   L    L   L    L    L     L       L      L",
        "user_a":    "S    O   S    S   S    O    O     S       S      O",
        "user_b":    "H    O   D    D   D    D    D     H       H      O",
        "manager":   "S    D   D    D   S    O    O     S       S      D",
        "editor":    "D    D   D    D   D    D    D     H       D      D",
        "blocked":   "L    L   L    L   L    L    L     L       L      L",
        "superuser": "S    O   S    S   S    O    O     S       S      O",
    },
    "message": {
        "anonymous": "L    L   L    L   L    L    L     L       L      -",
        "user_a":    "S    O   S    S   S    O    O     S       S      -",
        "user_b":    "H    O   D    D   D    D    D     H       H      -",
        "manager":   "S    D   D    D   S    O    O     S       S      -",
        "editor":    "D    D   D    D   D    D    D     H       D      -",
        "blocked":   "L    L   L    L   L    L    L     L       L      -",
        "superuser": "S    O   S    S   S    O    O     S       S      -",
    },
    "mailing": {
        "anonymous": "L    L   L    L   L    L    L     L       L      L",
        "user_a":    "S    O   S    S   S    O    O     S       S      S",
        "user_b":    "H    O   D    D   D    D    D     H       H      D",
        "manager":   "S    D   D    D   S    O    O     S       S      D",
        "editor":    "D    D   D    D   D    D    D     H       D      D",
        "blocked":   "L    L   L    L   L    L    L     L       L      L",
        "superuser": "S    O   S    S   S    O    O     S       S      S",
    },
    # A log: nobody adds, edits or deletes an attempt, not even a superuser.
    "attempt": {
        "anonymous": "L    L   L    L   L    L    L     L       L      -",
        "user_a":    "S    D   D    D   S    O    O     S       S      -",
        "user_b":    "H    D   D    D   D    D    D     H       H      -",
        "manager":   "S    D   D    D   S    O    O     S       S      -",
        "editor":    "D    D   D    D   D    D    D     H       D      -",
        "blocked":   "L    L   L    L   L    L    L     L       L      -",
        "superuser": "S    D   D    D   S    O    O     S       S      -",
    },
}
# The mailing's own pages.
MAILING_ACTIONS = ["send_now", "send_test", "preview", "report", "disable", "enable"]
MAILING_ACTION_MATRIX = {
    #             send_now send_test preview report disable enable
    "anonymous": "L        L         L       L      L       L",
    "user_a":    "S        S         S       S      D       D",
    "user_b":    "D        D         D       D      D       D",
    "manager":   "D        D         S       S      S       S",
    "editor":    "D        D         D       D      D       D",
    "blocked":   "L        L         L       L      L       L",
    "superuser": "S        S         S       S      S       S",
}
# fmt: on


def row(codes):
    return [CODES[code] for code in codes.split()]


ACTION_URLS = {"client": "mailing_client:import", "mailing": "mailing_mailing:send_now"}


def url_for(model, view, obj):
    ns = f"mailing_{model}"
    pk = [obj.pk]
    return {
        "list": lambda: reverse(f"{ns}:list"),
        "add": lambda: reverse(f"{ns}:add"),
        "edit": lambda: reverse(f"{ns}:edit", args=pk),
        "delete": lambda: reverse(f"{ns}:delete", args=pk),
        "inspect": lambda: reverse(f"{ns}:inspect", args=pk),
        "history": lambda: reverse(f"{ns}:history", args=pk),
        "usage": lambda: reverse(f"{ns}:usage", args=pk),
        "chooser": lambda: reverse(f"wagtailsnippetchoosers_mailing_{model}:choose"),
        "export": lambda: reverse(f"{ns}:list") + "?export=csv",
        "actions": lambda: reverse(
            ACTION_URLS[model], args=pk if model == "mailing" else []
        ),
    }[view]()


def body_of(response):
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def outcome_of(response, marker):
    if response.status_code == 302:
        location = response["Location"]
        if location == reverse("wagtailadmin_home"):
            texts = [str(m) for m in get_messages(response.wsgi_request)]
            assert texts, "a refusal must say why"
            return "denied"
        if "login" in location:
            return "login"
        return f"redirect:{location}"
    if response.status_code != 200:
        return str(response.status_code)
    return "see" if marker in body_of(response) else "hidden"


def matches(expected, actual):
    # "ok" only asks for a page: whether A's text shows is not the point there.
    return actual == expected or (expected == "ok" and actual in ("see", "hidden"))


def login(client, world, role):
    if role != "anonymous":
        client.force_login(world["users"][role])


@pytest.mark.smoke
def test_access_matrix(client, world, capsys):
    cells = 0
    failures = []
    for model, table in MATRIX.items():
        obj, marker = world["objects"][model], world["markers"][model]
        for role in ROLES:
            client.logout()
            login(client, world, role)
            for view, expected in zip(VIEWS, row(table[role]), strict=True):
                if expected is None:
                    continue
                actual = outcome_of(client.get(url_for(model, view, obj)), marker)
                cells += 1
                if not matches(expected, actual):
                    failures.append(f"{model}/{view}/{role}: {expected} != {actual}")
    for role in ROLES:
        client.logout()
        login(client, world, role)
        mailing = world["objects"]["mailing"]
        for action, expected in zip(
            MAILING_ACTIONS, row(MAILING_ACTION_MATRIX[role]), strict=True
        ):
            url = reverse(f"mailing_mailing:{action}", args=[mailing.pk])
            actual = outcome_of(client.get(url), "Mailing of A")
            cells += 1
            if not matches(expected, actual):
                failures.append(
                    f"mailing-action/{action}/{role}: {expected} != {actual}"
                )
    with capsys.disabled():
        print(f"\naccess matrix: {cells} cells checked")
    assert not failures, "\n".join(failures)
