"""Hostile values posted to every write endpoint of the API (issue 15): never a
server error, and a refusal is JSON with a code and a message.

Endpoints are discovered from the API's router; every field of a resource's
serializer (and a few it does not have) gets values from the hostile corpus of
tests/security and arbitrary JSON drawn by hypothesis.
"""

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mailing.api.urls import router
from tests.security.test_hostile_input import HOSTILE, hostile_values

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FIELDS = [
    "email", "full_name", "comment", "time_zone", "subject", "body", "html_body",
    "layout", "sender", "name", "message", "clients", "lists", "all_clients",
    "description", "list", "first_send_at", "periodicity",
    "end_at", "window_start", "window_end", "is_digest", "owner", "id",
    "from_name", "from_email", "reply_to", "postal_address", "language",
]  # fmt: skip
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), hostile_values),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_values, inner),
    max_leaves=8,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8),
    st.fixed_dictionaries({"clients": st.lists(json_values, max_size=5)}),
    json_values,
)


def write_targets(world) -> list[tuple[str, str]]:
    """(method, url) of every write route, object routes naming A's objects."""
    ids = {**world["ids"], "user": world["ids"]["user_a"]}
    targets = []
    for prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            url = route.url.replace("{prefix}", prefix).replace("{trailing_slash}", "/")
            url = url.replace("{lookup}", str(ids[basename]))
            url = "/api/v1/" + url.removeprefix("^").removesuffix("$")
            for method, handler in route.mapping.items():
                if method in ("post", "put", "patch") and hasattr(viewset, handler):
                    targets.append((method, url))
    return targets


def test_every_write_endpoint_refuses_hostile_input_in_json(world):
    api = world["apis"]["user_a"]
    targets = write_targets(world)
    # Sends are refused here by the SMTP-less test backend or run on nothing.
    targets = [t for t in targets if "send" not in t[1]]
    assert len(targets) >= 12, targets
    seen = set()

    @hypothesis_settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(body=bodies, target=st.sampled_from(targets))
    def post(body, target):
        method, url = target
        answer = getattr(api, method)(url, body, format="json")
        seen.add(target)
        assert answer.status_code < 500, (method, url, body)
        if answer.status_code >= 400:
            assert {"code", "message"} <= set(answer.json()), answer.content

    post()
    for method, url in targets:  # each endpoint at least once with the corpus
        for value in HOSTILE[:12]:
            answer = getattr(api, method)(
                url, dict.fromkeys(FIELDS, value), format="json"
            )
            assert answer.status_code < 500, (method, url, value)
    print(f"hostile input: {len(targets)} write endpoints, {len(seen)} drawn")
