"""Sender identities and layouts written through the API (issue 15): the admin's
forms check them, a new identity is confirmed by the admin's emailed link before a
message may use it, shared layouts are the superusers' to change."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import ApiToken
from mailing.models import EmailLayout, SenderIdentity
from tests.factories import make_sender, make_user

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+(/senders/confirm/[^/\s]+/)")
IDENTITY = {
    "from_name": "Anna's shop",
    "from_email": "news@shop.example",
    "postal_address": "1 Main St",
}


def links_to(address: str) -> list[str]:
    return [
        LINK.search(email.body).group(1)
        for email in mail.outbox
        if email.to == [address]
    ]


def test_a_new_identity_is_confirmed_by_its_emailed_link_before_a_message_uses_it(
    owner, token_for, client, django_capture_on_commit_callbacks
):
    api = token_for(owner)
    key = {"HTTP_IDEMPOTENCY_KEY": "identity-1"}
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/senders/", IDENTITY, format="json", **key)
    with django_capture_on_commit_callbacks(execute=True):
        retried = api.post("/api/v1/senders/", IDENTITY, format="json", **key)

    assert created.status_code == 201, created.content
    assert created.json()["confirmed"] is False
    assert retried.json() == created.json()
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert SenderIdentity.objects.filter(owner=owner).count() == 1
    [link] = links_to("news@shop.example")
    message = {"subject": "Hi", "body": "Text", "sender": created.json()["id"]}
    assert api.post("/api/v1/messages/", message, format="json").status_code == 400

    client.force_login(owner)
    assert client.post(link).status_code == 200

    detail = api.get(f"/api/v1/senders/{created.json()['id']}/").json()
    assert detail["confirmed"] is True
    assert api.post("/api/v1/messages/", message, format="json").status_code == 201


def test_a_changed_address_needs_a_new_confirmation_and_the_link_can_be_resent(
    owner, token_for, django_capture_on_commit_callbacks
):
    api = token_for(owner)
    identity = make_sender(owner, confirmed=True)
    path = f"/api/v1/senders/{identity.pk}/"

    refused = api.post(f"{path}resend/")
    with django_capture_on_commit_callbacks(execute=True):
        changed = api.patch(path, {"from_email": "new@shop.example"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        resent = api.post(f"{path}resend/")

    assert refused.status_code == 409 and refused.json()["code"] == "conflict"
    assert changed.status_code == 200, changed.content
    assert changed.json()["confirmed"] is False
    assert changed.json()["from_name"] == identity.from_name  # left out: kept
    assert resent.status_code == 200
    assert len(links_to("new@shop.example")) == 2


def test_confirmation_links_to_one_address_stop_after_three_an_hour(
    owner, token_for, client, django_capture_on_commit_callbacks
):
    """Resending the link (or changing the address back and forth) cannot fill a
    stranger's inbox: the fourth link in an hour is a 429 in the API and a warning
    in the admin, and nothing is mailed."""
    api = token_for(owner)
    identity = make_sender(owner, confirmed=False, from_email="victim@else.example")
    path = f"/api/v1/senders/{identity.pk}/resend/"
    with django_capture_on_commit_callbacks(execute=True):
        answers = [api.post(path, HTTP_ACCEPT_LANGUAGE="en") for _ in range(4)]
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        admin = client.post(
            reverse("mailing_senderidentity:resend", args=[identity.pk]),
            follow=True,
        )

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["code"] == "throttled"
    assert "too many confirmation links" in answers[3].json()["message"]
    assert "запрошено слишком много ссылок" in admin.content.decode()  # owner's
    assert len(links_to("victim@else.example")) == 3


def test_the_admins_form_refuses_a_second_identity_with_the_same_address_in_russian(
    owner, token_for
):
    make_sender(owner, from_email="news@shop.example")
    api = token_for(owner)

    answer = api.post(
        "/api/v1/senders/",
        {**IDENTITY, "from_email": "NEWS@shop.example"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    header = api.post(
        "/api/v1/senders/", {**IDENTITY, "from_name": "A\nBcc: x"}, format="json"
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    fields = answer.json()["fields"]
    assert fields == {"from_email": ["У вас уже есть этот адрес отправителя."]}
    assert header.status_code == 400 and set(header.json()["fields"]) == {"from_name"}
    assert SenderIdentity.objects.filter(owner=owner).count() == 1


def test_another_owners_identity_is_not_found_and_managers_only_read(owner, token_for):
    theirs = make_sender(make_user(), confirmed=False)
    manager = token_for(make_user("manager"))
    mine = token_for(owner)

    assert mine.get(f"/api/v1/senders/{theirs.pk}/").status_code == 404
    assert mine.post(f"/api/v1/senders/{theirs.pk}/resend/").status_code == 404
    assert manager.get(f"/api/v1/senders/{theirs.pk}/").status_code == 200
    assert manager.post("/api/v1/senders/", IDENTITY, format="json").status_code == 403
    assert token_for(make_user("editor")).get("/api/v1/senders/").status_code == 403
    read_only = token_for(owner, ApiToken.Scope.READ)
    assert (
        read_only.post("/api/v1/senders/", IDENTITY, format="json").status_code == 403
    )


BLOCKS = [
    {"type": "header", "value": {"logo": None, "title": "Shop", "tagline": ""}},
    {"type": "message_body", "value": None},
    {"type": "button", "value": {"label": "Go", "page": None, "url": "https://x.io"}},
    {"type": "footer", "value": {"text": "Bye"}},
]


def test_a_layout_is_written_with_its_blocks_and_read_back(owner, token_for):
    api = token_for(owner)

    created = api.post(
        "/api/v1/layouts/",
        {"name": "Mine", "language": "en", "body": BLOCKS},
        format="json",
    )

    assert created.status_code == 201, created.content
    layout = EmailLayout.objects.get(pk=created.json()["id"])
    assert layout.owner == owner
    assert [block.block_type for block in layout.body] == [
        "header",
        "message_body",
        "button",
        "footer",
    ]
    renamed = api.patch(
        f"/api/v1/layouts/{layout.pk}/", {"name": "Renamed"}, format="json"
    )
    assert renamed.status_code == 200, renamed.content
    assert [block["type"] for block in renamed.json()["body"]] == [
        "header",
        "message_body",
        "button",
        "footer",
    ]


@pytest.mark.parametrize(
    "body,problem",
    [
        (
            [{"type": "button", "value": {"label": "Go", "page": None, "url": ""}}],
            "body[0].url: Choose a page or enter an address.",
        ),
        (
            [{"type": "message_body", "value": None}] * 2,
            "body: Message body: The maximum number of items is 1",
        ),
        ([{"type": "script", "value": "alert(1)"}], "A list of blocks"),
        (
            [{"type": "image", "value": {"image": "x"}}],
            "body[0].image: A valid integer is required.",
        ),
        ({"type": "text"}, "A list of blocks"),
        (None, "may not be null"),
    ],
)
def test_a_layout_is_checked_by_the_admins_block_rules(owner, token_for, body, problem):
    answer = token_for(owner).post(
        "/api/v1/layouts/",
        {"name": "Bad", "body": body},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert answer.status_code == 400, answer.content
    assert problem in " ".join(answer.json()["fields"]["body"])
    assert not EmailLayout.objects.filter(owner=owner).exists()


def test_shared_layouts_are_read_by_owners_and_changed_by_superusers_only(
    owner, token_for
):
    shared = EmailLayout.objects.shared().first()
    path = f"/api/v1/layouts/{shared.pk}/"

    assert token_for(owner).get(path).json()["shared"] is True
    assert token_for(owner).patch(path, {"name": "X"}, format="json").status_code == 403
    assert token_for(owner).delete(path).status_code == 403
    root = token_for(make_user("superuser"))
    assert root.patch(path, {"name": "Shared"}, format="json").status_code == 200


def test_a_layout_left_without_language_and_blocks_starts_as_in_the_admin(
    owner, token_for
):
    owner.language = "en"
    owner.save(update_fields=["language"])

    created = token_for(owner).post("/api/v1/layouts/", {"name": "New"}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["language"] == "en"
    types = [block["type"] for block in created.json()["body"]]
    assert types == ["header", "message_body", "divider"]
