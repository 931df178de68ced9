"""An empty admin listing reads right in Russian (site_config/wagtail_wording.py)."""

import pytest
from django.urls import reverse

from tests.factories import (
    make_blog_index,
    make_client,
    make_mailing,
    make_post,
    make_user,
)

pytestmark = pytest.mark.django_db


def test_an_empty_listing_in_russian(client):
    client.force_login(make_user(language="ru"))
    url = reverse("mailing_segment:list")
    empty = client.get(url).content.decode()
    searched = client.get(url, {"q": "нет такого"}).content.decode()

    assert "Сегменты: пока ни одной записи." in empty
    assert "Нет сегменты" not in empty
    assert "Сегменты: ничего не подходит под запрос." in searched


def test_an_empty_listing_in_english_keeps_wagtails_words(client):
    client.force_login(make_user(language="en"))
    empty = client.get(reverse("mailing_segment:list")).content.decode()
    assert "There are no segments to display." in empty


def russian_owner(client):
    owner = make_user(language="ru")
    client.force_login(owner)
    return owner


def test_a_refused_create_form_names_the_model_without_declining_it(client):
    russian_owner(client)
    response = client.post(
        reverse("mailing_client:add"),
        {"email": "not an email", "full_name": "Ann", "comment": "", "time_zone": ""},
    )
    page = response.content.decode()

    assert "Клиент: не удалось создать, в форме есть ошибки." in page
    assert "создать клиент " not in page


def test_a_created_client_is_not_told_in_the_feminine(client):
    russian_owner(client)
    response = client.post(
        reverse("mailing_client:add"),
        {
            "email": "ann@example.org",
            "full_name": "Ann",
            "comment": "",
            "time_zone": "",
        },
        follow=True,
    )
    told = [str(message) for message in response.context["messages"]]

    assert told[0].startswith("Клиент «Ann &lt;ann@example.org&gt;»: создано.")


def test_the_new_mailing_page_is_headed_without_a_masculine_new(client):
    russian_owner(client)
    page = client.get(reverse("mailing_mailing:add")).content.decode()

    assert "Создание: Рассылка" in page
    assert "Новый: Рассылка" not in page


def test_deleting_asks_without_declining_the_model(client):
    owner = russian_owner(client)
    mailing = make_mailing(owner)
    one = client.get(reverse("mailing_mailing:delete", args=[mailing.pk]))
    bulk = client.get(
        reverse(
            "wagtail_bulk_action",
            args=["mailing", "client", "delete"],
        ),
        {"id": make_client(owner).pk, "next": reverse("mailing_client:list")},
    )

    assert "удалить эту запись (рассылка)?" in one.content.decode()
    assert "удалить рассылка" not in one.content.decode()
    assert "Ссылок на эту запись (рассылка): 0." in one.content.decode()
    assert "Удаление: клиент" in bulk.content.decode()
    assert "удалить эту запись (клиент)?" in bulk.content.decode()
    assert "этот клиент" not in bulk.content.decode()


def test_the_header_actions_are_labelled_in_the_users_language(client):
    owner = russian_owner(client)
    page = client.get(
        reverse("mailing_mailing:inspect", args=[make_mailing(owner).pk])
    ).content.decode()

    assert 'aria-label="Действия" id="w-slim-header-buttons"' in page
    assert 'aria-label="Actions"' not in page


def test_a_page_being_edited_names_its_type_without_declining_it(client):
    from tests.factories import home_page

    client.force_login(make_user("editor", language="ru"))
    page = client.get(
        reverse("wagtailadmin_pages:edit", args=[home_page("ru").pk])
    ).content.decode()

    assert "<title>Редактирование страницы «Главная страница»: " in page
    assert "Редактирование Главная страница" not in page


def test_a_listing_counts_its_rows_without_declining_the_model(client):
    owner = russian_owner(client)
    for _ in range(3):
        make_client(owner)
    page = client.get(reverse("mailing_client:list")).content.decode()

    assert "Клиенты: 3" in page
    assert "3 клиенты" not in page


def test_the_page_explorer_counts_its_pages_in_russian(client):
    index = make_blog_index()
    for _ in range(5):
        make_post(index)
    client.force_login(make_user("editor", language="ru"))

    page = client.get(f"/admin/pages/{index.pk}/").content.decode()
    searched = client.get(f"/admin/pages/{index.pk}/", {"q": "Post"}).content.decode()

    assert "страницы: 1–5 из 5" in page
    assert " of 5 " not in page and " of 5 " not in searched
    assert "1–5 из 5" in searched
