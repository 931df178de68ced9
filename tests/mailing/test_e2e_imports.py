"""A client import in Chromium, in Russian and in English (issue 12): upload,
preview with the column mapping, confirm into a list, the progress page and its
rejected-rows link; the progress bar moves by polling while a consumer works.
Screenshots land in .test-artifacts/audiences/."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from wagtail.users.models import UserProfile

from mailing.import_jobs import run_import
from mailing.imports import stash_path
from mailing.models import Client, ClientField, ImportJob, MailingList, Subscription
from tests.factories import make_user
from tests.mailing.test_e2e_audiences import shoot
from tests.mailing.test_e2e_workspace import sign_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.parametrize("language", ["ru", "en"]),
]
CSV = (
    "email;имя;комментарий;город;теги\n"
    "anna@example.org;Анна Кошкина;постоянная;Казань;vip, опт\n"
    "not-an-address;Плохой;;;\n"
    "boris@example.org;Борис;;;\n"
).encode("cp1251")


def upload_page(browser, live_server, owner, language: str):
    """The owner, signed in with their language, on the upload page at 1280 px."""
    UserProfile.objects.update_or_create(
        user=owner, defaults={"preferred_language": language}
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, owner.email)
    page.goto(live_server.url + reverse("mailing_client:import"))
    return page


def upload(page, name: str, data: bytes) -> None:
    """Upload the file and wait for its preview (the mapping step)."""
    page.set_input_files(
        "input[name=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}],
    )
    page.click("main form[enctype] button[type=submit]")
    page.wait_for_url(re.compile(r".*\?preview=1$"))


def test_the_owner_imports_into_a_list_and_follows_progress_in_chromium(
    live_server, browser, language, settings, tmp_path
):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    owner = make_user(email=f"importer-{language}@example.com")
    news = MailingList.objects.create(owner=owner, name="Новости")
    ClientField.objects.create(owner=owner, key="city", label="Город")
    page = upload_page(browser, live_server, owner, language)
    base = live_server.url
    shoot(page, f"import-upload-{language}")
    upload(page, "clients.csv", CSV)
    page.select_option("select[name=mailing_list]", str(news.pk))
    page.check("input[name=existing][value=update]")
    # The mapping step: one choice per column, guessed from the Russian headers.
    expect(page.locator("select[name=column_0]")).to_have_value("email")
    expect(page.locator("select[name=column_1]")).to_have_value("full_name")
    # The owner's declared field and tags are targets too.
    expect(page.locator("select[name=column_3]")).to_have_value("attribute:city")
    expect(page.locator("select[name=column_4]")).to_have_value("tags")
    shoot(page, f"import-mapping-{language}")
    page.click("main form:not([enctype]) button[type=submit]")
    page.wait_for_url(re.compile(r".*/import/\d+/$"))

    job = ImportJob.objects.get(owner=owner)
    expect(page.locator("[data-field=status_label]")).to_have_text(
        "Done" if language == "en" else "Готово"
    )
    expect(page.locator("[data-field=created]")).to_have_text("2")
    expect(page.locator("[data-field=rejected]")).to_have_text("1")
    link = page.get_by_test_id("rejected-link").locator("a")
    expect(link).to_be_visible()
    shoot(page, f"import-done-{language}")
    with page.expect_download() as download:
        link.click()
    report = download.value.path().read_text(encoding="utf-8")
    assert report.splitlines()[1].startswith("3,")  # its line in the file, then why
    anna = Client.objects.get(email="anna@example.org")
    assert (anna.full_name, anna.attributes, anna.tags) == (
        "Анна Кошкина",
        {"city": "Казань"},
        ["vip", "опт"],
    )
    assert Subscription.objects.filter(mailing_list=news).count() == 2
    assert job.pk

    # A job still waiting for its consumer: the page polls and the bar moves.
    token = "b" * 32
    stash_path(token).write_bytes(b"c@example.org,C,\nd@example.org,D,\n")
    waiting = ImportJob.objects.create(owner=owner, file_token=token, file_name="w.csv")
    page.goto(base + reverse("mailing_client:import_job", args=[waiting.pk]))
    expect(page.locator("[data-field=total]")).to_have_text("…")
    shoot(page, f"import-queued-{language}")
    run_import(waiting.pk)
    expect(page.locator("[data-field=done]")).to_have_text("2")
    expect(page.locator("[data-field=total]")).to_have_text("2")
    assert page.locator("progress").evaluate("bar => bar.value === bar.max")
    page.close()


WIDE_HEADER = [
    "email",
    "имя",
    "комментарий",
    "город",
    "теги",
    *(f"поле номер {n} с длинным названием" for n in range(6, 12)),
    "очень_длинный_заголовок_без_единого_пробела_который_некуда_перенести",
]


def test_twelve_columns_map_without_scrolling_sideways_in_chromium(
    live_server, browser, language, settings, tmp_path
):
    settings.CLIENT_IMPORT_DIR = str(tmp_path)
    owner = make_user(email=f"wide-{language}@example.com")
    rows = [
        [f"reader{n}@example.org", f"Читатель {n}", "x" * 90, "Казань", "vip"]
        + [f"значение-{n}-{column}" for column in range(6, 12)]
        + ["https://example.org/" + "очень-длинная-ссылка-" * 5]
        for n in range(3)
    ]
    text = "\n".join(";".join(row) for row in [WIDE_HEADER, *rows])
    page = upload_page(browser, live_server, owner, language)

    upload(page, "wide.csv", text.encode())

    expect(page.get_by_test_id("import-column")).to_have_count(12)
    expect(page.locator("select[name=column_11]")).to_be_visible()
    shoot(page, f"import-mapping-12-columns-{language}")
    sideways = page.evaluate(
        """() => [document.documentElement, ...document.querySelectorAll('main *')]
            .filter(box => box.scrollWidth > box.clientWidth + 1 && (
                box === document.documentElement
                || ['auto', 'scroll'].includes(getComputedStyle(box).overflowX)))
            .map(box => box.tagName + '.' + box.className)"""
    )
    assert sideways == []
    beyond = page.evaluate(
        """() => [...document.querySelectorAll('main select, main td, main th')]
            .filter(box => box.getBoundingClientRect().right > innerWidth)
            .map(box => box.outerHTML.slice(0, 80))"""
    )
    assert beyond == []
    page.locator("select[name=column_11]").scroll_into_view_if_needed()
    shoot(page, f"import-mapping-12-columns-end-{language}")
    page.close()
