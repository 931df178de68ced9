"""Writes through the admin: owner rules on POST, scoped form choices, exports,
manager actions and their history, query counts of every listing."""

import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.models import ModelLogEntry

from mailing.models import Attempt, Client, Mailing, MailingRun, Message, OwnedLogEntry
from tests.factories import (
    make_client,
    make_list,
    make_mailing,
    make_message,
    make_user,
    recipients_of,
)

HOME = "/admin/"


def refused(response):
    return (
        response.status_code == 302
        and response["Location"] == HOME
        and any(get_messages(response.wsgi_request))
    )


def mailing_post(message, lists, **extra):
    data = {
        "name": "New mailing",
        "message": message.pk,
        "lists": [x.pk for x in lists],
        "first_send_at": "2031-01-01 10:00",
        "periodicity": "daily",
        "end_at": "",
    }
    data.update(extra)
    return data


@pytest.mark.smoke
def test_foreign_posts_are_refused_and_change_nothing(client, world):
    a_client = world["objects"]["client"]
    mailing = world["objects"]["mailing"]
    for role in ("user_b", "manager"):
        client.force_login(world["users"][role])
        edit = reverse("mailing_client:edit", args=[a_client.pk])
        assert refused(client.post(edit, {"email": "x@example.com", "full_name": "X"}))
        delete = reverse("mailing_mailing:delete", args=[mailing.pk])
        assert refused(client.post(delete))
        assert refused(
            client.post(reverse("mailing_mailing:send_now", args=[mailing.pk]))
        )
        bulk = (
            reverse("wagtail_bulk_action", args=["mailing", "client", "delete"])
            + f"?id={a_client.pk}"
        )
        client.post(bulk)
    a_client.refresh_from_db()
    assert a_client.email == "alice-client@example.org"
    assert Mailing.objects.filter(pk=mailing.pk).exists()
    assert Client.objects.filter(pk=a_client.pk).exists()
    assert (
        not MailingRun.objects.filter(mailing=mailing, kind="manual")
        .exclude(pk=world["objects"]["attempt"].run_id)
        .exists()
    )


@pytest.mark.smoke
def test_mailing_form_refuses_foreign_list_and_message_ids(client, world):
    b = world["users"]["user_b"]
    own_message, own_list = make_message(b), make_list(b, clients=[make_client(b)])
    client.force_login(b)
    add = reverse("mailing_mailing:add")

    foreign_list = client.post(
        add, mailing_post(own_message, [own_list, world["objects"]["list"]])
    )
    foreign_message = client.post(
        add, mailing_post(world["objects"]["message"], [own_list])
    )

    for response in (foreign_list, foreign_message):
        assert response.status_code == 200
        assert response.context["form"].errors
    assert not Mailing.objects.filter(owner=b).exists()
    # The form never offers A's rows either.
    page = client.get(add).content.decode()
    assert "alice-client@example.org" not in page and "Subject of A" not in page
    assert world["markers"]["list"] not in page


def test_owner_comes_from_the_request_not_the_form(client, world):
    b = world["users"]["user_b"]
    client.force_login(b)
    response = client.post(
        reverse("mailing_client:add"),
        {
            "email": "new@example.org",
            "full_name": "N",
            "owner": world["users"]["user_a"].pk,
        },
    )
    assert response.status_code == 302
    assert Client.objects.get(email="new@example.org").owner == b


def test_create_mailing_sets_owner_and_schedule(client, world):
    b = world["users"]["user_b"]
    message, recipient = make_message(b), make_client(b)
    client.force_login(b)
    response = client.post(
        reverse("mailing_mailing:add"),
        mailing_post(message, [make_list(b, clients=[recipient])]),
    )
    assert response.status_code == 302, response.context["form"].errors
    mailing = Mailing.objects.get(owner=b)
    assert list(recipients_of(mailing)) == [recipient]
    assert mailing.next_send_at == mailing.first_send_at


def test_duplicate_client_email_is_a_form_error(client, world):
    client.force_login(world["users"]["user_a"])
    response = client.post(
        reverse("mailing_client:add"),
        {"email": "ALICE-client@example.org", "full_name": "Dup"},
    )
    assert response.status_code == 200
    assert "email" in response.context["form"].errors


@pytest.mark.smoke
def test_export_escapes_formula_cells(client, world):
    a = world["users"]["user_a"]
    make_client(a, email="=1+1@example.com", full_name="@SUM(A1)", comment="-2+3")
    client.force_login(a)
    url = reverse("mailing_client:list")

    response = client.get(url + "?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    row = next(r for r in rows if "1+1@example.com" in r[0])
    assert row[:3] == ["'=1+1@example.com", "'@SUM(A1)", "'-2+3"]

    response = client.get(url + "?export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'=1+1@example.com" in values
    assert "=1+1@example.com" not in values


def test_manager_disables_and_reenables_with_history(client, world):
    mailing, manager = world["objects"]["mailing"], world["users"]["manager"]
    client.force_login(manager)
    url = reverse("mailing_mailing:disable", args=[mailing.pk])
    page = client.get(url)
    assert page.status_code == 200  # a confirmation page; nothing changed yet
    mailing.refresh_from_db()
    assert mailing.is_enabled
    client.post(url)
    mailing.refresh_from_db()
    assert not mailing.is_enabled
    client.post(reverse("mailing_mailing:enable", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.is_enabled
    # Owned objects keep their history apart, with the owner on each entry.
    actions = list(
        OwnedLogEntry.objects.filter(
            object_id=str(mailing.pk), owner=mailing.owner
        ).values_list("action", "user")
    )
    assert ("mailing.disable", manager.pk) in actions
    assert ("mailing.enable", manager.pk) in actions
    history = client.get(reverse("mailing_mailing:history", args=[mailing.pk]))
    assert "Mailing disabled" in history.content.decode() or "Рассылка отключена" in (
        history.content.decode()
    )


def test_manager_blocks_user_who_is_signed_out(client, world):
    a, manager = world["users"]["user_a"], world["users"]["manager"]
    client.force_login(manager)
    assert client.get(reverse("mailing_users:block", args=[a.pk])).status_code == 200
    client.post(reverse("mailing_users:block", args=[a.pk]))
    a.refresh_from_db()
    assert a.is_blocked
    assert ModelLogEntry.objects.filter(
        action="mailing.block_user", object_id=str(a.pk), user=manager
    ).exists()
    # A's open session ends at once.
    client.force_login(a)
    assert "login" in client.get(reverse("mailing_client:list"))["Location"]
    client.force_login(manager)
    client.post(reverse("mailing_users:unblock", args=[a.pk]))
    a.refresh_from_db()
    assert not a.is_blocked


def test_users_page_is_for_managers_only(client, world):
    for role, expected in [("user_a", 302), ("editor", 302), ("manager", 200)]:
        client.force_login(world["users"][role])
        assert client.get(reverse("mailing_users:index")).status_code == expected


def test_script_in_user_text_is_escaped_for_managers(client, world):
    a = world["users"]["user_a"]
    make_client(a, email="x@example.org", full_name="<script>alert(1)</script>")
    message = make_message(
        a,
        subject="<img src=x onerror=alert(2)>",
        html_body="<p>Hi<script>alert(3)</script></p>",
    )
    mailing = make_mailing(a, message=message, clients=[make_client(a)])
    client.force_login(world["users"]["manager"])
    pages = [
        client.get(reverse("mailing_client:list")),
        client.get(reverse("mailing_message:list")),
        client.get(reverse("mailing_message:inspect", args=[message.pk])),
        client.get(reverse("mailing_mailing:preview", args=[mailing.pk])),
    ]
    for page in pages:
        body = page.content.decode()
        assert "<script>alert(" not in body
        assert "<img src=x onerror" not in body


def test_preview_renders_for_chosen_recipient_in_a_sandbox(client, world):
    a = world["users"]["user_a"]
    message = make_message(
        a, subject="Hi {{ full_name }}", body="{{ settings.SECRET_KEY }}"
    )
    first, second = (
        make_client(a, full_name="First"),
        make_client(a, full_name="Second"),
    )
    mailing = make_mailing(a, message=message, clients=[first, second])
    client.force_login(a)
    url = reverse("mailing_mailing:preview", args=[mailing.pk])
    body = client.get(url, {"client": second.pk}).content.decode()
    assert "Hi Second" in body
    assert "{{ settings.SECRET_KEY }}" in body
    assert 'sandbox=""' in body
    # Another owner's client id is not a choice: the first recipient is shown.
    body = client.get(url, {"client": world["objects"]["client"].pk}).content.decode()
    assert "Hi First" in body


def test_send_now_and_test(client, world, mailoutbox):
    a, mailing = world["users"]["user_a"], world["objects"]["mailing"]
    client.force_login(a)
    before = MailingRun.objects.filter(mailing=mailing).count()
    client.post(reverse("mailing_mailing:send_now", args=[mailing.pk]))
    run = MailingRun.objects.filter(mailing=mailing).latest("created_at")
    assert MailingRun.objects.filter(mailing=mailing).count() == before + 1
    assert (run.kind, run.status) == ("manual", "pending")
    attempts_before_test = Attempt.objects.count()
    client.post(reverse("mailing_mailing:send_test", args=[mailing.pk]))
    assert [m.to for m in mailoutbox] == [[a.email]]
    assert (
        "Alice Client" in mailoutbox[0].subject
        or "Subject of A" in mailoutbox[0].subject
    )
    # A test send is not part of any run: it writes no Attempt.
    assert Attempt.objects.count() == attempts_before_test


def test_report_page_shows_rate_and_errors(client, world):
    mailing, attempt = world["objects"]["mailing"], world["objects"]["attempt"]
    Attempt.objects.create(
        run=attempt.run,
        mailing=mailing,
        client=make_client(world["users"]["user_a"]),
        status="success",
        attempted_at=timezone.now(),
    )
    # Reports read the run's counters, which the sending path keeps with its rows.
    type(attempt.run).objects.filter(pk=attempt.run_id).update(
        sent_count=1, failed_count=1
    )
    client.force_login(world["users"]["user_a"])
    body = client.get(
        reverse("mailing_mailing:report", args=[mailing.pk])
    ).content.decode()
    assert "50.0%" in body or "50,0%" in body
    assert "550 mailbox of A unknown" in body
    assert "<svg" in body


def test_dashboard_panel_figures(client, world):
    a = world["users"]["user_a"]
    make_mailing(world["users"]["user_b"], status="running")
    client.force_login(a)
    body = client.get(HOME).content.decode()
    assert 'data-figure="mailings_total">1<' in body
    client.force_login(world["users"]["manager"])
    body = client.get(HOME).content.decode()
    assert 'data-figure="mailings_total">2<' in body
    assert 'data-figure="mailings_running">1<' in body
    client.force_login(world["users"]["editor"])
    assert "data-figure" not in client.get(HOME).content.decode()


def test_menus_by_role(client, world):
    client.force_login(world["users"]["user_a"])
    body = client.get(HOME).content.decode()
    assert "mailing" in body.lower()
    assert '"name": "explorer"' not in body and '"name": "images"' not in body
    client.force_login(world["users"]["editor"])
    body = client.get(HOME).content.decode()
    assert '"name": "mailing"' not in body
    client.force_login(world["users"]["user_a"])
    assert refused(client.get("/admin/pages/"))


# --- Query counts: no query per row --------------------------------------------------


@pytest.fixture
def busy_owner(db):
    owner = make_user("mailing_user")
    message = make_message(owner)
    clients = Client.objects.bulk_create(
        [
            Client(owner=owner, email=f"c{i}@example.org", full_name=f"C {i}")
            for i in range(200)
        ]
    )
    Message.objects.bulk_create(
        [Message(owner=owner, subject=f"S {i}", body="b") for i in range(200)]
    )
    mailings = Mailing.objects.bulk_create(
        [
            Mailing(
                owner=owner,
                message=message,
                name=f"M {i}",
                first_send_at=timezone.now(),
            )
            for i in range(200)
        ]
    )
    run = MailingRun.objects.create(
        mailing=mailings[0], kind="manual", slot=timezone.now()
    )
    Attempt.objects.bulk_create(
        [
            Attempt(
                run=run,
                mailing=mailings[0],
                client=c,
                status="success",
                attempted_at=timezone.now(),
            )
            for c in clients
        ]
    )
    return owner


@pytest.mark.parametrize("model", ["client", "message", "mailing", "attempt"])
@pytest.mark.parametrize("role", ["owner", "manager"])
def test_listing_of_200_rows_has_no_query_per_row(
    client, busy_owner, model, role, django_assert_max_num_queries
):
    user = busy_owner if role == "owner" else make_user("manager")
    client.force_login(user)
    url = reverse(f"mailing_{model}:list") + "?per_page=200"
    client.get(url)  # warm caches (content types, site)
    with django_assert_max_num_queries(25):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["object_list"]) == 200


def test_dashboard_and_reports_query_counts(
    client, busy_owner, django_assert_max_num_queries
):
    client.force_login(busy_owner)
    client.get(HOME)
    with django_assert_max_num_queries(30):
        assert client.get(HOME).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("mailing_reports:index")).status_code == 200


def test_demo_seed_is_idempotent(db):
    import io

    from accounts import demo as accounts_demo
    from mailing import demo

    out = io.StringIO()
    accounts_demo.seed(out)
    demo.seed(out)
    demo.seed(out)
    assert Mailing.objects.filter(owner__email="user@vestnik.example").count() == 1
    assert Client.objects.filter(owner__email="user2@vestnik.example").count() == 2


def test_only_those_who_see_every_owner_filter_listings_by_owner(client, world):
    users = world["users"]
    make_message(users["user_b"], subject="Subject of B")
    listing = reverse("mailing_message:list") + f"?owner={users['user_a'].pk}"

    client.force_login(users["manager"])
    managed = client.get(listing).content.decode()
    client.force_login(users["user_b"])
    own = client.get(listing).content.decode()

    assert "Subject of A" in managed and "Subject of B" not in managed
    assert 'name="owner"' in managed
    # For an owner the filter does not exist: their own objects only, as always.
    assert "Subject of B" in own and "Subject of A" not in own
    assert 'name="owner"' not in own
