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
from tests.security.forms import (
    Form,
    post_forms,
    shows_an_error,
    shows_what_it_made,
)
from tests.security.uploads import Uploader, upload_corpus
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
# `make test` samples: per form one post carrying a slice of the corpus (the slices
# rotate, so every corpus value reaches some form) plus one hypothesis draw.
# `make stress` posts every corpus value alone in every field, plus 10 draws.
SUITE_DRAWS, STRESS_DRAWS = 1, 10


def discover_forms(world, clients, wanted=Form.text_fields):
    """(role, page path, form) for each distinct POST form of the project that has
    what `wanted` looks for (text fields unless told)."""
    found, seen = [], set()
    for target in walk(world.filler()).targets:
        if any(fnmatch.fnmatchcase(target.route.name, p) for p in DESTRUCTIVE):
            continue
        for role in ROLE_ORDER:
            response = clients[role].get(target.path)
            if outcome(response) != "ok" or "html" not in response.get(
                "Content-Type", ""
            ):
                continue
            for form in post_forms(response.content.decode(), target.path):
                if wanted(form) and (role, form.signature) not in seen:
                    seen.add((role, form.signature))
                    found.append((role, target.path, form))
            break
    return found


class Poster:
    """Posts values to one form as a browser would and judges each answer."""

    def __init__(self, http, role, page, form):
        self.http, self.role, self.page, self.form = http, role, page, form
        self.tried = self.refused = 0
        self.failures: list[str] = []

    def post(self, values: list[str]) -> None:
        fields = self.form.text_fields()
        self.http.get(self.page)  # a fresh CSRF token, as a browser would have
        values = {f: values[i % len(values)] for i, f in enumerate(fields)}
        data = self.form.data(values)
        response = self.http.post(self.form.action, data)
        self.tried += 1
        where = f"{self.role} {self.form.action}"
        if response.status_code >= 500:
            self.failures.append(f"{where}: {response.status_code}")
        elif (
            response.status_code in (200, 400)
            and "html" in response.get("Content-Type", "")
            and not shows_what_it_made(response.content.decode())
        ):
            self.refused += 1
            if not shows_an_error(response.content.decode()):
                self.failures.append(f"{where}: refused without a message")

    def draws(self, examples: int) -> None:
        """`examples` hypothesis-drawn value lists, corpus and arbitrary unicode."""

        @hypothesis_settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(st.lists(hostile_values, min_size=1, max_size=len(self.fields)))
        def post_hostile(values):
            self.post(values)

        post_hostile()

    @property
    def fields(self) -> list[str]:
        return self.form.text_fields()


def corpus_slice(start: int, size: int) -> list[str]:
    return [HOSTILE[(start + i) % len(HOSTILE)] for i in range(max(size, 1))]


def run_hostile(world, full: bool) -> None:
    clients = {
        role: world.client_for(role, raise_request_exception=False)
        for role in ROLE_ORDER
    }
    found = discover_forms(world, clients, wanted=lambda f: f.text_fields() or f.files)
    forms = [(role, page, form) for role, page, form in found if form.text_fields()]
    posters, offset = [], 0
    for role, page, form in forms:
        # A fresh session per form: a post that succeeds may end or change it.
        http = world.client_for(role, raise_request_exception=False)
        poster = Poster(http, role, page, form)
        if full:
            for value in HOSTILE:
                poster.post([value])
        else:
            poster.post(corpus_slice(offset, len(poster.fields)))
            offset += len(poster.fields)
        poster.draws(STRESS_DRAWS if full else SUITE_DRAWS)
        posters.append(poster)

    tried = sum(p.tried for p in posters)
    corpus_used = len(HOSTILE) if full else min(offset, len(HOSTILE))
    print(
        f"hostile inputs: {tried} posts to {len(forms)} forms "
        f"({'full corpus' if full else 'sampled corpus'}: {corpus_used} of "
        f"{len(HOSTILE)} corpus values used, plus hypothesis draws), "
        f"{sum(p.refused for p in posters)} refused with the form shown again"
    )
    for role, _, form in forms:
        print(f"  form {form.action} as {role}: {len(form.text_fields())} text fields")
    uploaders = post_uploads(world, [f for f in found if f[2].files], full)
    failures = [f for p in [*posters, *uploaders] for f in p.failures]
    assert forms, "no form found: the walk is broken"
    assert uploaders, "no file field found: the walk is broken"
    assert offset >= len(HOSTILE) or full, "the sample missed part of the corpus"
    assert not failures, "\n".join(sorted(set(failures)))


def post_uploads(world, forms, full: bool) -> list[Uploader]:
    """Every file into every form with a file field (stress); in the suite the files
    are dealt out over the forms in turn, so each file reaches some form."""
    corpus = upload_corpus()
    dealt: dict[int, list] = {i: [] for i in range(len(forms))}
    for n, upload in enumerate(corpus if not full else []):
        dealt[n % len(forms)].append(upload)
    uploaders = []
    for index, (role, page, form) in enumerate(forms):
        http = world.client_for(role, raise_request_exception=False)
        uploader = Uploader(http, role, world.users[role], page, form)
        for upload in corpus if full else dealt[index]:
            uploader.post(upload)
        uploaders.append(uploader)
    print(
        f"hostile uploads: {sum(u.tried for u in uploaders)} posts to "
        f"{len(forms)} forms with file fields "
        f"({'every file in every field' if full else 'each file in one form'}) of "
        f"{len(corpus)} files: {', '.join(u.label for u in corpus)}; "
        f"{sum(u.refused for u in uploaders)} refused with a reason"
    )
    for up in uploaders:
        print(f"  upload form {up.form.action} as {up.role}: {up.tried} posts, "
              f"{up.refused} refused")  # fmt: skip
    return uploaders


def test_hostile_values_in_every_form_never_cause_a_server_error(world):
    run_hostile(world, full=False)


@pytest.mark.stress
def test_the_whole_hostile_corpus_in_every_form(world):
    run_hostile(world, full=True)
