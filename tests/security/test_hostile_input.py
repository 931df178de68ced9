"""Hostile values posted to every form the project shows: never a 500, and a refusal
always says why.

Forms are discovered, not listed: every address of the URL walk is opened as the
first role that may see it, its POST forms are parsed, filled with hostile values
(hypothesis draws them from a corpus plus arbitrary unicode) and posted back with
the CSRF token, as a browser would.
"""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.security.access import outcome
from tests.security.forms import post_forms, shows_an_error
from tests.security.urlwalk import walk

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HOSTILE = [
    "",
    " ",
    "x" * 100_000,
    "\x00",
    "a\x00b",
    "\r\nBcc: victim@x.example",
    "line\rbreak\nand\r\nmore",
    "\x1b[31m\x07\x08\x7f",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE mailing_client; --",
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "\u202egnp.exe",  # right-to-left override
    "\u200b\u200d\ufeff",  # zero-width characters
    "\U0001f4e7\U0001f680" * 50,  # emoji
    "Ｓｃｒｉｐｔ ǅ ß ﬁ İ",  # width, title case, ligature, dotted I
    "a@x.example, b@y.example",
    "a" * 64 + "@" + "b" * 250 + ".example",
    "user@[127.0.0.1]",
    "=1+1@example.com",
    "javascript:alert(1)",
    "../../../../etc/passwd",
    "%00%0d%0a",
    "9" * 400,
    "-1",
    "2038-01-19T03:14:08",
]
hostile_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
)

# Forms whose POST destroys or moves the shared fixture objects; what they do is
# proved by the owning app's tests, and an empty confirmation form has no text.
DESTRUCTIVE = (
    *("*delete*", "*unpublish*", "*revert*", "*disable*", "*remove*", "*lock*"),
    *("*logout*", "*move*", "*unschedule*", "*convert_alias*"),
)
ROLE_ORDER = ("anonymous", "user_a", "editor", "manager", "superuser")
EXAMPLES_PER_FORM = 6


def discover_forms(world):
    """(role, page path, form) for each distinct POST form of the project."""
    found, seen = [], set()
    for target in walk(world.filler()).targets:
        if any(fnmatch.fnmatchcase(target.route.name, p) for p in DESTRUCTIVE):
            continue
        for role in ROLE_ORDER:
            http = world.client_for(role, raise_request_exception=False)
            response = http.get(target.path)
            if outcome(response) != "ok" or "html" not in response.get(
                "Content-Type", ""
            ):
                continue
            for form in post_forms(response.content.decode(), target.path):
                if form.text_fields() and (role, form.signature) not in seen:
                    seen.add((role, form.signature))
                    found.append((role, target.path, form))
            break
    return found


def post_hostile_values(http, role, page, form, tried, refused, failures):
    """A hypothesis test for one form: post, then judge the answer."""
    fields = form.text_fields()

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(st.lists(hostile_values, min_size=1, max_size=len(fields)))
    def post_hostile(values):
        http.get(page)  # a fresh CSRF token, as a browser would have
        data = form.data({f: values[i % len(values)] for i, f in enumerate(fields)})
        response = http.post(form.action, data)
        tried[0] += 1
        if response.status_code >= 500:
            failures.append(f"{role} {form.action}: {response.status_code}")
        elif response.status_code in (200, 400) and "html" in response.get(
            "Content-Type", ""
        ):
            refused[0] += 1
            if not shows_an_error(response.content.decode()):
                failures.append(f"{role} {form.action}: refused without a message")

    return post_hostile


def test_hostile_values_in_every_form_never_cause_a_server_error(world):
    forms = discover_forms(world)
    tried, refused, failures = [0], [0], []

    for role, page, form in forms:
        http = world.client_for(role, raise_request_exception=False)
        post_hostile_values(http, role, page, form, tried, refused, failures)()

    print(
        f"hostile inputs: {tried[0]} posts to {len(forms)} forms, "
        f"{refused[0]} refused with the form shown again"
    )
    for role, _, form in forms:
        print(f"  form {form.action} as {role}: {len(form.text_fields())} text fields")
    assert forms, "no form found: the walk is broken"
    assert not failures, "\n".join(sorted(set(failures)))
