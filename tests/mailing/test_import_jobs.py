"""Client imports of any size (issue 12): chunks, progress, resuming after a crash,
target list, existing clients, rejected rows, owner-only pages."""

import csv
import io
import json

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from openpyxl import Workbook

from mailing import import_jobs
from mailing.import_jobs import run_import, start_import
from mailing.imports import stash_path
from mailing.models import Client, ImportJob, MailingList, Subscription
from mailing.suppression import suppress_address
from tests.factories import english, make_client, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return make_user("mailing_user")


@pytest.fixture(autouse=True)
def stash_dir(settings, tmp_path):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    return tmp_path


def stash(content: bytes, token="a" * 32):
    path = stash_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return token


def queued(owner, content: bytes, **options) -> ImportJob:
    """A job recorded but not run (its task waits for the commit)."""
    return start_import(owner, stash(content), file_name="c.csv", **options)


def rows(count: int, start: int = 0) -> bytes:
    return "".join(
        f"user{n}@example.org,Кошкин {n},\n" for n in range(start, start + count)
    ).encode()


def test_chunks_commit_progress_and_bulk_statements(
    owner, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 100)
    job = queued(owner, b"email,name\n" + rows(250) + b"broken,x,\n")
    # Per chunk a handful of statements, not one per row (252 rows, 3 chunks).
    with django_assert_max_num_queries(40):
        job = run_import(job.pk)
    assert (job.status, job.total_rows, job.rows_done) == ("done", 252, 252)
    assert (job.created, job.rejected, job.skipped) == (250, 1, 0)
    assert Client.objects.get(owner=owner, email="user7@example.org").full_name == (
        "Кошкин 7"
    )
    assert not stash_path(job.file_token).exists()  # done: the file is deleted


def test_a_crash_mid_import_resumes_from_the_last_committed_chunk(owner, monkeypatch):
    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 100)
    job = queued(owner, rows(350))
    real = import_jobs._import_chunk
    calls = []

    def dies_on_the_third_chunk(locked, chunk, layout):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise SystemExit("consumer killed")
        real(locked, chunk, layout)

    monkeypatch.setattr(import_jobs, "_import_chunk", dies_on_the_third_chunk)
    with pytest.raises(SystemExit):
        run_import(job.pk)
    job.refresh_from_db()
    # Two chunks committed, the third rolled back whole.
    assert (job.status, job.rows_done, job.created) == ("running", 200, 200)
    assert Client.objects.filter(owner=owner).count() == 200

    monkeypatch.setattr(import_jobs, "_import_chunk", real)
    job = run_import(job.pk)
    assert (job.status, job.rows_done, job.created) == ("done", 350, 350)
    assert Client.objects.filter(owner=owner).count() == 350


def test_the_sweeper_wakes_a_stalled_import(owner):
    job = queued(owner, rows(3))
    ImportJob.objects.filter(pk=job.pk).update(
        changed_at=job.changed_at - import_jobs.STALLED_AFTER * 2
    )
    assert import_jobs.resume_stalled_imports(job.changed_at) == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.created) == ("done", 3)  # Huey runs it at once in tests


def test_target_list_keeps_opt_outs_and_suppression(owner):
    mailing_list = MailingList.objects.create(owner=owner, name="Новости")
    left = make_client(owner, email="left@example.org")
    Subscription.objects.create(
        client=left, mailing_list=mailing_list, status="unsubscribed"
    )
    suppress_address(owner.pk, "erased@example.org", "unsubscribe")
    suppress_address(owner.pk, "bounced@example.org", "hard_bounce")
    job = queued(
        owner,
        b"left@example.org,L,\nerased@example.org,E,\nbounced@example.org,B,\n"
        b"new@example.org,N,\n",
        mailing_list=mailing_list,
    )
    run_import(job.pk)
    statuses = dict(
        Subscription.objects.filter(mailing_list=mailing_list).values_list(
            "client__email", "status"
        )
    )
    assert statuses == {
        "left@example.org": "unsubscribed",  # an opt-out is never undone
        "erased@example.org": "subscribed",
        "bounced@example.org": "subscribed",
        "new@example.org": "subscribed",
    }
    erased = Client.objects.get(owner=owner, email="erased@example.org")
    bounced = Client.objects.get(owner=owner, email="bounced@example.org")
    assert erased.unsubscribed_at is not None  # stays opted out
    assert bounced.suppressed_reason  # stays suppressed


@pytest.mark.parametrize(
    "policy, name, counts",
    [("skip", "Old", (0, 1)), ("update", "Новое имя", (1, 0))],
)
def test_existing_clients_skipped_or_updated(owner, policy, name, counts):
    make_client(owner, email="Known@Example.org", full_name="Old")
    content = "known@example.org,Новое имя,\n".encode()
    job = run_import(queued(owner, content, existing=policy).pk)
    assert Client.objects.get(owner=owner).full_name == name
    assert (job.updated, job.skipped) == counts
    assert job.created == 0


def test_a_file_repeating_an_address_across_chunks_creates_it_once(owner, monkeypatch):
    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 2)
    job = run_import(queued(owner, rows(3) + rows(3)).pk)
    assert (job.created, job.skipped, job.repeated) == (3, 0, 3)
    assert Client.objects.filter(owner=owner).count() == 3
    repeats = job.rejections.filter(first_line__isnull=False).order_by("line")
    assert list(repeats.values_list("line", "first_line")) == [(4, 1), (5, 2), (6, 3)]


def test_an_unreadable_file_fails_the_job_with_its_reason(owner):
    job = run_import(queued(owner, b"").pk)
    assert job.status == "failed" and job.error


def test_xlsx_import_through_the_same_pipeline(owner):
    book = Workbook()
    sheet = book.active
    sheet.append(["email", "имя", "комментарий"])
    sheet.append(["xl@example.org", "Ёжиков", "из Excel"])
    sheet.append(["not-an-address", "Плохой", None])
    sheet.append([None, None, None])
    sheet.append(["n@example.org", 42, None])
    buffer = io.BytesIO()
    book.save(buffer)
    job = run_import(queued(owner, buffer.getvalue()).pk)
    assert not job.error
    assert (job.status, job.created, job.rejected) == ("done", 2, 1)
    assert Client.objects.get(owner=owner, email="xl@example.org").comment == "из Excel"
    assert Client.objects.get(owner=owner, email="n@example.org").full_name == "42"


def test_rejected_rows_csv_and_status_are_the_owners_only(client, owner):
    job = run_import(queued(owner, b"ok@example.org,A,\nbad,B,\nworse@,C,\n").pk)
    client.force_login(owner)
    status = client.get(reverse("mailing_client:import_status", args=[job.pk]))
    assert json.loads(status.content)["rejected"] == 2
    response = client.get(reverse("mailing_client:import_rejected", args=[job.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    report = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode()))
    )
    assert [row[0] for row in report][1:] == ["2", "3"]
    assert all(row[1] for row in report)
    page = client.get(reverse("mailing_client:import_job", args=[job.pk]))
    assert page.status_code == 200
    assert b'data-testid="rejected-link"' in page.content

    other = make_user("mailing_user")
    client.force_login(other)
    for name in ("import_job", "import_status", "import_rejected"):
        assert (
            client.get(reverse(f"mailing_client:{name}", args=[job.pk])).status_code
            == 404
        )
    client.logout()
    for name in ("import_job", "import_status", "import_rejected"):
        response = client.get(reverse(f"mailing_client:{name}", args=[job.pk]))
        assert response.status_code == 302 and "login" in response["Location"]


def test_confirm_page_starts_a_job_with_list_and_policy(
    client, owner, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    mailing_list = MailingList.objects.create(owner=owner, name="Клиенты")
    foreign = MailingList.objects.create(owner=make_user("mailing_user"), name="X")
    client.force_login(owner)
    url = reverse("mailing_client:import")
    client.post(url, {"file": SimpleUploadedFile("c.csv", b"a@example.org,A,\n")})
    preview = client.get(f"{url}?preview=1")
    assert "Клиенты" in preview.content.decode()
    assert "X</option>" not in preview.content.decode()
    refused = client.post(
        url, {"confirm": "1", "mailing_list": foreign.pk, "existing": "skip"}
    )
    assert refused.status_code == 200 and not ImportJob.objects.exists()
    assert refused.context["confirm_form"].errors["mailing_list"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"confirm": "1", "mailing_list": mailing_list.pk, "existing": "update"}
        )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("mailing_client:import_job", args=[job.pk])
    assert (job.status, job.existing, job.mailing_list) == (
        "done",
        "update",
        mailing_list,
    )
    assert Subscription.objects.filter(mailing_list=mailing_list).count() == 1


def test_the_file_of_an_unfinished_import_is_not_swept(owner, settings):
    import os
    import time

    from mailing.imports import sweep_stashes

    job = queued(owner, rows(1))
    path = stash_path(job.file_token)
    old = time.time() - settings.CLIENT_IMPORT_MAX_AGE - 60
    os.utime(path, (old, old))
    assert sweep_stashes(time.time()) == 0 and path.exists()
    ImportJob.objects.filter(pk=job.pk).update(status="failed")
    assert sweep_stashes(time.time()) == 1


def test_the_stored_column_mapping_picks_the_columns(owner):
    content = "Комментарий;Почта;Имя\nvip;m@example.org;Мария\n".encode()
    mapping = {"email": 1, "full_name": 2, "comment": 0}
    job = run_import(queued(owner, content, mapping=mapping).pk)
    assert (job.created, job.rejected) == (1, 0)  # the header row is not data
    client = Client.objects.get(owner=owner)
    assert (client.email, client.full_name, client.comment) == (
        "m@example.org",
        "Мария",
        "vip",
    )


def worker_hint(client, job):
    page = client.get(reverse("mailing_client:import_job", args=[job.pk]))
    hint = BeautifulSoup(page.content, "html.parser").find(
        attrs={"data-testid": "worker-hint"}
    )
    shown = not hint.has_attr("hidden")
    status = client.get(reverse("mailing_client:import_status", args=[job.pk]))
    assert json.loads(status.content)["waits_for_worker"] is shown  # the poll agrees
    return hint.get_text(" ", strip=True) if shown else None


def test_a_job_queued_for_over_a_minute_says_to_check_the_worker(client, owner):
    """With no consumer running, the page said «В очереди» forever, with no hint."""
    job = queued(owner, rows(3))
    client.force_login(owner)
    assert worker_hint(client, job) is None  # a consumer takes it within seconds

    ImportJob.objects.filter(pk=job.pk).update(
        changed_at=job.changed_at - import_jobs.NO_WORKER_AFTER * 2
    )
    assert "запущен manage.py run_huey" in worker_hint(client, job)
    client.force_login(english(owner))
    assert "check that manage.py run_huey is running" in worker_hint(client, job)

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    assert worker_hint(client, job) is None  # taken: the hint would mislead
